-- CreateTable
CREATE TABLE "lab_explainers" (
    "id" SERIAL NOT NULL,
    "run_id" INTEGER NOT NULL,
    "scope" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "explainer_name" TEXT NOT NULL,
    "dataset_id" INTEGER,
    "parameters" JSONB NOT NULL DEFAULT '{}',
    "fit_parameters" JSONB NOT NULL DEFAULT '{}',
    "instances" JSONB NOT NULL DEFAULT '{}',
    "backend" TEXT NOT NULL DEFAULT 'auto',
    "status" INTEGER NOT NULL DEFAULT 0,
    "job_id" TEXT,
    "error" TEXT,
    "explanation" JSONB,
    "plots" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lab_explainers_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "lab_explainers_run_id_scope_idx" ON "lab_explainers"("run_id", "scope");

-- AddForeignKey
ALTER TABLE "lab_explainers" ADD CONSTRAINT "lab_explainers_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "lab_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
