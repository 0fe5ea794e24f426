-- CreateTable
CREATE TABLE "bench_judge_reports" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "eval_run_id" UUID,
    "eval_run_id_b" UUID,
    "mode" TEXT NOT NULL,
    "judge_model" TEXT NOT NULL,
    "judge_model_name" TEXT NOT NULL,
    "custom_instructions" TEXT,
    "standalone" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "status" TEXT NOT NULL DEFAULT 'running',
    "verdicts" JSONB NOT NULL DEFAULT '[]',
    "report" JSONB,
    "overall_grade" TEXT,
    "overall_score" DOUBLE PRECISION,
    "error" TEXT,
    "instance" TEXT,
    "heartbeat_at" TIMESTAMPTZ(3),

    CONSTRAINT "bench_judge_reports_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "bench_judge_reports_user_id_created_at_idx" ON "bench_judge_reports"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "bench_judge_reports_status_idx" ON "bench_judge_reports"("status");

-- AddForeignKey
ALTER TABLE "bench_judge_reports" ADD CONSTRAINT "bench_judge_reports_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
