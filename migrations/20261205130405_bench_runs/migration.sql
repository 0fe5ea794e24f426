-- CreateTable
CREATE TABLE "bench_runs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "status" TEXT NOT NULL DEFAULT 'running',
    "source" TEXT NOT NULL DEFAULT 'api',
    "schedule_id" UUID,
    "prompt" TEXT NOT NULL,
    "context_tiers" INTEGER[],
    "settings" JSONB NOT NULL DEFAULT '{}',
    "metadata" JSONB,
    "error" TEXT,
    "instance" TEXT,
    "heartbeat_at" TIMESTAMPTZ(3),

    CONSTRAINT "bench_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bench_results" (
    "id" BIGSERIAL NOT NULL,
    "run_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seq" INTEGER NOT NULL,
    "provider" TEXT NOT NULL,
    "provider_key" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "model_id" TEXT NOT NULL,
    "run_index" INTEGER NOT NULL,
    "runs" INTEGER NOT NULL,
    "context_tokens" INTEGER NOT NULL,
    "ttft_ms" DOUBLE PRECISION NOT NULL,
    "total_time_s" DOUBLE PRECISION NOT NULL,
    "output_tokens" INTEGER NOT NULL,
    "input_tokens" INTEGER NOT NULL,
    "reasoning_tokens" INTEGER NOT NULL,
    "tokens_per_second" DOUBLE PRECISION NOT NULL,
    "output_speed_tps" DOUBLE PRECISION NOT NULL,
    "itl_ms" DOUBLE PRECISION NOT NULL,
    "input_tokens_per_second" DOUBLE PRECISION NOT NULL,
    "cost" DOUBLE PRECISION NOT NULL,
    "tokens_source" TEXT NOT NULL,
    "success" BOOLEAN NOT NULL,
    "error" TEXT,

    CONSTRAINT "bench_results_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bench_schedules" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prompt" TEXT NOT NULL,
    "models" TEXT[],
    "max_tokens" INTEGER NOT NULL,
    "temperature" DOUBLE PRECISION NOT NULL,
    "runs" INTEGER NOT NULL DEFAULT 1,
    "context_tiers" INTEGER[] DEFAULT ARRAY[0]::INTEGER[],
    "warmup" BOOLEAN NOT NULL DEFAULT false,
    "interval_hours" DOUBLE PRECISION,
    "cron" TEXT,
    "tz" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "last_run" TIMESTAMPTZ(3),
    "next_run" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bench_schedules_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "bench_runs_user_id_created_at_idx" ON "bench_runs"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "bench_runs_created_at_idx" ON "bench_runs"("created_at");

-- CreateIndex
CREATE INDEX "bench_runs_status_idx" ON "bench_runs"("status");

-- CreateIndex
CREATE INDEX "bench_results_run_id_seq_idx" ON "bench_results"("run_id", "seq");

-- CreateIndex
CREATE INDEX "bench_results_user_id_created_at_idx" ON "bench_results"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "bench_schedules_user_id_idx" ON "bench_schedules"("user_id");

-- CreateIndex
CREATE INDEX "bench_schedules_enabled_next_run_idx" ON "bench_schedules"("enabled", "next_run");

-- AddForeignKey
ALTER TABLE "bench_runs" ADD CONSTRAINT "bench_runs_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bench_results" ADD CONSTRAINT "bench_results_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "bench_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bench_schedules" ADD CONSTRAINT "bench_schedules_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
