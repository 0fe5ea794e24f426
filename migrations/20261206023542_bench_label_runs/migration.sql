-- CreateTable
CREATE TABLE "bench_label_suites" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "dataset_id" UUID NOT NULL,
    "dataset_name" TEXT NOT NULL,
    "modality" TEXT NOT NULL,
    "challenge_type" TEXT NOT NULL,
    "prompt" TEXT,
    "choices" TEXT[],
    "items" JSONB NOT NULL,
    "item_count" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bench_label_suites_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bench_label_runs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "suite_id" UUID,
    "suite_name" TEXT NOT NULL,
    "dataset_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "status" TEXT NOT NULL DEFAULT 'running',
    "models" TEXT[],
    "temperature" DOUBLE PRECISION NOT NULL,
    "summary" JSONB NOT NULL DEFAULT '[]',
    "crowd" JSONB,
    "results" JSONB NOT NULL DEFAULT '[]',
    "error" TEXT,
    "heartbeat_at" TIMESTAMPTZ(3),

    CONSTRAINT "bench_label_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "bench_label_suites_user_id_created_at_idx" ON "bench_label_suites"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "bench_label_runs_user_id_created_at_idx" ON "bench_label_runs"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "bench_label_runs_status_idx" ON "bench_label_runs"("status");

-- AddForeignKey
ALTER TABLE "bench_label_suites" ADD CONSTRAINT "bench_label_suites_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bench_label_runs" ADD CONSTRAINT "bench_label_runs_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
