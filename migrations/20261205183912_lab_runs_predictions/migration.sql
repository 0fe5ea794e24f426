-- CreateTable
CREATE TABLE "lab_runs" (
    "id" SERIAL NOT NULL,
    "model_session_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "model_name" TEXT NOT NULL,
    "parameters" JSONB NOT NULL DEFAULT '{}',
    "optimizer_name" TEXT,
    "optimizer_parameters" JSONB NOT NULL DEFAULT '{}',
    "goal_metric" TEXT,
    "status" INTEGER NOT NULL DEFAULT 0,
    "source" TEXT NOT NULL DEFAULT 'trained',
    "job_id" TEXT,
    "error" TEXT,
    "train_metrics" JSONB,
    "validation_metrics" JSONB,
    "test_metrics" JSONB,
    "trials" JSONB,
    "searched_params" JSONB,
    "best_params" JSONB,
    "has_onnx" BOOLEAN NOT NULL DEFAULT false,
    "start_time" TIMESTAMPTZ(3),
    "end_time" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lab_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lab_predictions" (
    "id" SERIAL NOT NULL,
    "run_id" INTEGER NOT NULL,
    "dataset_id" INTEGER,
    "split" TEXT,
    "manual_input" JSONB,
    "status" INTEGER NOT NULL DEFAULT 0,
    "job_id" TEXT,
    "error" TEXT,
    "rows" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lab_predictions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "lab_runs_model_session_id_idx" ON "lab_runs"("model_session_id");

-- CreateIndex
CREATE INDEX "lab_predictions_run_id_idx" ON "lab_predictions"("run_id");

-- AddForeignKey
ALTER TABLE "lab_runs" ADD CONSTRAINT "lab_runs_model_session_id_fkey" FOREIGN KEY ("model_session_id") REFERENCES "lab_model_sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lab_predictions" ADD CONSTRAINT "lab_predictions_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "lab_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
