-- CreateTable
CREATE TABLE "lab_datasets" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "status" INTEGER NOT NULL DEFAULT 0,
    "file_path" TEXT,
    "total_rows" INTEGER,
    "total_columns" INTEGER,
    "job_id" TEXT,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lab_datasets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lab_model_sessions" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "dataset_id" INTEGER NOT NULL,
    "task_name" TEXT NOT NULL,
    "input_columns" JSONB NOT NULL,
    "output_columns" JSONB NOT NULL,
    "train_metrics" JSONB NOT NULL DEFAULT '[]',
    "validation_metrics" JSONB NOT NULL DEFAULT '[]',
    "test_metrics" JSONB NOT NULL DEFAULT '[]',
    "evaluation_strategy" TEXT,
    "splits" JSONB NOT NULL DEFAULT '{}',
    "converters" JSONB NOT NULL DEFAULT '[]',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lab_model_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "lab_datasets_name_key" ON "lab_datasets"("name");

-- CreateIndex
CREATE UNIQUE INDEX "lab_model_sessions_name_key" ON "lab_model_sessions"("name");

-- CreateIndex
CREATE INDEX "lab_model_sessions_dataset_id_idx" ON "lab_model_sessions"("dataset_id");

-- AddForeignKey
ALTER TABLE "lab_model_sessions" ADD CONSTRAINT "lab_model_sessions_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "lab_datasets"("id") ON DELETE CASCADE ON UPDATE CASCADE;
