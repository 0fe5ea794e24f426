-- CreateTable
CREATE TABLE "bench_param_tunes" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "suite_id" UUID,
    "suite_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "status" TEXT NOT NULL DEFAULT 'running',
    "models" TEXT[],
    "search_space" JSONB NOT NULL,
    "strategy" TEXT NOT NULL,
    "total_combos" INTEGER NOT NULL,
    "completed_combos" INTEGER NOT NULL DEFAULT 0,
    "results" JSONB NOT NULL DEFAULT '[]',
    "best_config" JSONB,
    "best_score" DOUBLE PRECISION,
    "duration_s" DOUBLE PRECISION,
    "error" TEXT,
    "instance" TEXT,
    "heartbeat_at" TIMESTAMPTZ(3),

    CONSTRAINT "bench_param_tunes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "bench_param_tunes_user_id_created_at_idx" ON "bench_param_tunes"("user_id", "created_at");

-- AddForeignKey
ALTER TABLE "bench_param_tunes" ADD CONSTRAINT "bench_param_tunes_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
