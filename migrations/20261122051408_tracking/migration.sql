-- CreateEnum
CREATE TYPE "tracking_run_status" AS ENUM ('wip', 'completed', 'failed');

-- CreateTable
CREATE TABLE "tracking_projects" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "notes" TEXT NOT NULL DEFAULT '',
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tracking_projects_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tracking_runs" (
    "id" SERIAL NOT NULL,
    "project_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "status" "tracking_run_status" NOT NULL DEFAULT 'wip',
    "config" JSONB NOT NULL DEFAULT '{}',
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "notes" TEXT NOT NULL DEFAULT '',
    "exit_code" INTEGER,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "last_activity_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_step" INTEGER NOT NULL DEFAULT -1,
    "point_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tracking_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tracking_metric_series" (
    "id" SERIAL NOT NULL,
    "run_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "tracking_metric_series_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tracking_metric_points" (
    "series_id" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "timestamp" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tracking_metric_points_pkey" PRIMARY KEY ("series_id","step")
);

-- CreateTable
CREATE TABLE "tracking_artifacts" (
    "id" SERIAL NOT NULL,
    "run_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "content_type" TEXT NOT NULL DEFAULT 'application/octet-stream',
    "storage_key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tracking_artifacts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "tracking_projects_name_key" ON "tracking_projects"("name");

-- CreateIndex
CREATE UNIQUE INDEX "tracking_runs_project_id_name_key" ON "tracking_runs"("project_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "tracking_metric_series_run_id_name_key" ON "tracking_metric_series"("run_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "tracking_artifacts_storage_key_key" ON "tracking_artifacts"("storage_key");

-- CreateIndex
CREATE UNIQUE INDEX "tracking_artifacts_run_id_name_key" ON "tracking_artifacts"("run_id", "name");

-- AddForeignKey
ALTER TABLE "tracking_runs" ADD CONSTRAINT "tracking_runs_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "tracking_projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracking_metric_series" ADD CONSTRAINT "tracking_metric_series_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "tracking_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracking_metric_points" ADD CONSTRAINT "tracking_metric_points_series_id_fkey" FOREIGN KEY ("series_id") REFERENCES "tracking_metric_series"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracking_artifacts" ADD CONSTRAINT "tracking_artifacts_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "tracking_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
