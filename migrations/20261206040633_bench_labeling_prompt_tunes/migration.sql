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

-- CreateTable
CREATE TABLE "bench_prompt_tunes" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "suite_id" UUID,
    "suite_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "status" TEXT NOT NULL DEFAULT 'running',
    "target_models" TEXT[],
    "meta_model" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "base_prompt" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "total_prompts" INTEGER NOT NULL,
    "completed_prompts" INTEGER NOT NULL DEFAULT 0,
    "generations" JSONB NOT NULL DEFAULT '[]',
    "best_prompt" TEXT,
    "best_score" DOUBLE PRECISION,
    "duration_s" DOUBLE PRECISION,
    "error" TEXT,
    "heartbeat_at" TIMESTAMPTZ(3),

    CONSTRAINT "bench_prompt_tunes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "bench_label_suites_user_id_created_at_idx" ON "bench_label_suites"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "bench_label_runs_user_id_created_at_idx" ON "bench_label_runs"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "bench_label_runs_status_idx" ON "bench_label_runs"("status");

-- CreateIndex
CREATE INDEX "bench_prompt_tunes_user_id_created_at_idx" ON "bench_prompt_tunes"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "bench_prompt_tunes_status_idx" ON "bench_prompt_tunes"("status");

-- AddForeignKey
ALTER TABLE "bench_label_suites" ADD CONSTRAINT "bench_label_suites_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bench_label_runs" ADD CONSTRAINT "bench_label_runs_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bench_prompt_tunes" ADD CONSTRAINT "bench_prompt_tunes_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
