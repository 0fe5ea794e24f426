-- CreateTable
CREATE TABLE "tracking_metric_chunks" (
    "series_id" INTEGER NOT NULL,
    "chunk" INTEGER NOT NULL,
    "steps" BYTEA NOT NULL,
    "values" BYTEA NOT NULL,
    "timestamps" BYTEA NOT NULL,

    CONSTRAINT "tracking_metric_chunks_pkey" PRIMARY KEY ("series_id","chunk")
);

-- AddForeignKey
ALTER TABLE "tracking_metric_chunks" ADD CONSTRAINT "tracking_metric_chunks_series_id_fkey" FOREIGN KEY ("series_id") REFERENCES "tracking_metric_series"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Packed arrays of random doubles do not compress: store them out of line without pglz, read without inflating.
ALTER TABLE "tracking_metric_chunks" ALTER COLUMN "steps" SET STORAGE EXTERNAL;
ALTER TABLE "tracking_metric_chunks" ALTER COLUMN "values" SET STORAGE EXTERNAL;
ALTER TABLE "tracking_metric_chunks" ALTER COLUMN "timestamps" SET STORAGE EXTERNAL;

-- Backfill from the points already stored (same packing as the write path in src/modules/tracking/service.ts).
INSERT INTO "tracking_metric_chunks" ("series_id", "chunk", "steps", "values", "timestamps")
SELECT p.series_id, p.step / 1000,
       string_agg(int4send(p.step), ''::bytea ORDER BY p.step),
       string_agg(float8send(p.value), ''::bytea ORDER BY p.step),
       string_agg(float8send((extract(epoch FROM p."timestamp") * 1000)::int8::float8), ''::bytea ORDER BY p.step)
  FROM "tracking_metric_points" p
 GROUP BY p.series_id, p.step / 1000;
