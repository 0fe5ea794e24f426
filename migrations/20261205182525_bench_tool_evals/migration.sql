-- CreateTable
CREATE TABLE "bench_tool_suites" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "tools" JSONB NOT NULL DEFAULT '[]',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bench_tool_suites_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bench_tool_cases" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "suite_id" UUID NOT NULL,
    "prompt" TEXT NOT NULL,
    "expected_tool" JSONB,
    "expected_params" JSONB,
    "param_scoring" TEXT NOT NULL DEFAULT 'exact',
    "multi_turn_config" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seq" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "bench_tool_cases_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bench_eval_runs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "suite_id" UUID,
    "suite_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "status" TEXT NOT NULL DEFAULT 'running',
    "models" TEXT[],
    "temperature" DOUBLE PRECISION NOT NULL,
    "tool_choice" TEXT NOT NULL,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "summary" JSONB NOT NULL DEFAULT '[]',
    "error" TEXT,
    "instance" TEXT,
    "heartbeat_at" TIMESTAMPTZ(3),

    CONSTRAINT "bench_eval_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bench_eval_results" (
    "id" BIGSERIAL NOT NULL,
    "run_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seq" INTEGER NOT NULL,
    "model_id" TEXT NOT NULL,
    "provider_key" TEXT NOT NULL,
    "test_case_id" TEXT NOT NULL,
    "tool_selection_score" DOUBLE PRECISION NOT NULL,
    "param_accuracy" DOUBLE PRECISION,
    "overall_score" DOUBLE PRECISION NOT NULL,
    "success" BOOLEAN NOT NULL,
    "result" JSONB NOT NULL,

    CONSTRAINT "bench_eval_results_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "bench_tool_suites_user_id_created_at_idx" ON "bench_tool_suites"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "bench_tool_cases_suite_id_seq_idx" ON "bench_tool_cases"("suite_id", "seq");

-- CreateIndex
CREATE INDEX "bench_eval_runs_user_id_created_at_idx" ON "bench_eval_runs"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "bench_eval_runs_status_idx" ON "bench_eval_runs"("status");

-- CreateIndex
CREATE INDEX "bench_eval_results_run_id_seq_idx" ON "bench_eval_results"("run_id", "seq");

-- CreateIndex
CREATE INDEX "bench_eval_results_user_id_created_at_idx" ON "bench_eval_results"("user_id", "created_at");

-- AddForeignKey
ALTER TABLE "bench_tool_suites" ADD CONSTRAINT "bench_tool_suites_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bench_tool_cases" ADD CONSTRAINT "bench_tool_cases_suite_id_fkey" FOREIGN KEY ("suite_id") REFERENCES "bench_tool_suites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bench_eval_runs" ADD CONSTRAINT "bench_eval_runs_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bench_eval_results" ADD CONSTRAINT "bench_eval_results_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "bench_eval_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
