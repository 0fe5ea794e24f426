-- CreateEnum
CREATE TYPE "modality" AS ENUM ('image', 'text', 'audio');

-- CreateEnum
CREATE TYPE "challenge_type" AS ENUM ('image', 'text', 'audio', 'grid_select', 'select_all');

-- CreateEnum
CREATE TYPE "item_state" AS ENUM ('unlabeled', 'labeled', 'revalidating', 'graduated', 'needs_review');

-- CreateEnum
CREATE TYPE "match_type" AS ENUM ('exact', 'prefix', 'glob');

-- CreateEnum
CREATE TYPE "session_outcome" AS ENUM ('pending', 'passed', 'failed', 'expired');

-- CreateTable
CREATE TABLE "datasets" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "modality" "modality" NOT NULL,
    "prompt" TEXT,
    "challenge_type" "challenge_type" NOT NULL,
    "choices" TEXT[],
    "item_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "datasets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "items" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "seq" BIGSERIAL NOT NULL,
    "dataset_id" UUID NOT NULL,
    "data_ref" TEXT NOT NULL,
    "modality" "modality" NOT NULL,
    "challenge_type" "challenge_type",
    "prompt" TEXT,
    "ground_truth" JSONB,
    "is_gt" BOOLEAN NOT NULL DEFAULT false,
    "state" "item_state" NOT NULL DEFAULT 'unlabeled',
    "vote_count" INTEGER NOT NULL DEFAULT 0,
    "rand" DOUBLE PRECISION NOT NULL DEFAULT random(),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "votes" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "item_id" UUID NOT NULL,
    "session_id" UUID,
    "solver_id" TEXT NOT NULL,
    "answer" TEXT NOT NULL,
    "revalidation" BOOLEAN NOT NULL DEFAULT false,
    "processed" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "votes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "labels" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "seq" BIGSERIAL NOT NULL,
    "item_id" UUID NOT NULL,
    "dataset_id" UUID NOT NULL,
    "label" JSONB NOT NULL,
    "confidence" DOUBLE PRECISION NOT NULL,
    "weighted_confidence" DOUBLE PRECISION,
    "solver_count" INTEGER NOT NULL,
    "vote_count" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "labels_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "solvers" (
    "id" TEXT NOT NULL,
    "gt_correct" INTEGER NOT NULL DEFAULT 0,
    "gt_total" INTEGER NOT NULL DEFAULT 0,
    "votes" INTEGER NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "solvers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "label" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "key_prefix" TEXT NOT NULL,
    "datasets" UUID[],
    "sample_rate" DOUBLE PRECISION NOT NULL DEFAULT 1.0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "proxy_rules" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "pattern" TEXT NOT NULL,
    "match_type" "match_type" NOT NULL DEFAULT 'prefix',
    "priority" INTEGER NOT NULL DEFAULT 0,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "proxy_rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "challenge_sessions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "challenge_id" TEXT NOT NULL,
    "api_key_id" UUID,
    "client_hash" TEXT NOT NULL,
    "tier" INTEGER NOT NULL,
    "modality" "modality",
    "challenge_type" "challenge_type",
    "gt_item_id" UUID,
    "unknown_item_id" UUID,
    "outcome" "session_outcome" NOT NULL DEFAULT 'pending',
    "gt_correct" BOOLEAN,
    "risk_score" DOUBLE PRECISION,
    "features" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "submitted_at" TIMESTAMPTZ(3),

    CONSTRAINT "challenge_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "risk_models" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "version" SERIAL NOT NULL,
    "source" TEXT NOT NULL,
    "onnx" BYTEA NOT NULL,
    "feature_names" TEXT[],
    "metrics" JSONB NOT NULL,
    "trained_on" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "risk_models_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "datasets_created_at_id_idx" ON "datasets"("created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "items_seq_key" ON "items"("seq");

-- CreateIndex
CREATE INDEX "items_dataset_id_seq_idx" ON "items"("dataset_id", "seq");

-- CreateIndex
CREATE INDEX "items_modality_is_gt_state_vote_count_rand_idx" ON "items"("modality", "is_gt", "state", "vote_count", "rand");

-- CreateIndex
CREATE INDEX "items_is_gt_modality_rand_idx" ON "items"("is_gt", "modality", "rand");

-- CreateIndex
CREATE INDEX "votes_item_id_revalidation_processed_idx" ON "votes"("item_id", "revalidation", "processed");

-- CreateIndex
CREATE INDEX "votes_solver_id_item_id_idx" ON "votes"("solver_id", "item_id");

-- CreateIndex
CREATE UNIQUE INDEX "labels_seq_key" ON "labels"("seq");

-- CreateIndex
CREATE UNIQUE INDEX "labels_item_id_key" ON "labels"("item_id");

-- CreateIndex
CREATE INDEX "labels_dataset_id_seq_idx" ON "labels"("dataset_id", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "api_keys_revoked_at_created_at_idx" ON "api_keys"("revoked_at", "created_at");

-- CreateIndex
CREATE INDEX "proxy_rules_priority_created_at_idx" ON "proxy_rules"("priority" DESC, "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "challenge_sessions_challenge_id_key" ON "challenge_sessions"("challenge_id");

-- CreateIndex
CREATE INDEX "challenge_sessions_created_at_id_idx" ON "challenge_sessions"("created_at", "id");

-- CreateIndex
CREATE INDEX "challenge_sessions_client_hash_created_at_idx" ON "challenge_sessions"("client_hash", "created_at");

-- CreateIndex
CREATE INDEX "challenge_sessions_gt_correct_created_at_idx" ON "challenge_sessions"("gt_correct", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "risk_models_version_key" ON "risk_models"("version");

-- AddForeignKey
ALTER TABLE "items" ADD CONSTRAINT "items_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "votes" ADD CONSTRAINT "votes_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "votes" ADD CONSTRAINT "votes_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "challenge_sessions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "labels" ADD CONSTRAINT "labels_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "labels" ADD CONSTRAINT "labels_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "challenge_sessions" ADD CONSTRAINT "challenge_sessions_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE SET NULL ON UPDATE CASCADE;
