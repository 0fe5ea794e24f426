-- CreateTable
CREATE TABLE "bench_users" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "email" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'user',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_login_at" TIMESTAMPTZ(3),
    "benchmarks_per_hour" INTEGER,
    "max_concurrent" INTEGER,
    "max_runs_per_benchmark" INTEGER,

    CONSTRAINT "bench_users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bench_refresh_tokens" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "family_id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "rotated_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "bench_refresh_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bench_cli_tokens" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "bench_cli_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bench_providers" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "provider_key" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "api_base" TEXT,
    "api_key_env" TEXT,
    "model_id_prefix" TEXT,
    "timeout_seconds" INTEGER,
    "position" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bench_providers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bench_models" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "provider_id" UUID NOT NULL,
    "model_id" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "context_window" INTEGER NOT NULL DEFAULT 128000,
    "max_output_tokens" INTEGER,
    "skip_params" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "input_cost_per_mtok" DOUBLE PRECISION,
    "output_cost_per_mtok" DOUBLE PRECISION,
    "custom_fields" JSONB NOT NULL DEFAULT '{}',
    "position" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "bench_models_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bench_provider_keys" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "provider_key" TEXT NOT NULL,
    "ciphertext" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "bench_provider_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bench_env_keys" (
    "name" TEXT NOT NULL,
    "ciphertext" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "last_four" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_by" UUID,

    CONSTRAINT "bench_env_keys_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "bench_prompt_templates" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "category" TEXT NOT NULL DEFAULT 'general',
    "prompt" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bench_prompt_templates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bench_user_settings" (
    "user_id" UUID NOT NULL,
    "defaults" JSONB NOT NULL DEFAULT '{}',
    "phase10" JSONB NOT NULL DEFAULT '{}',
    "onboarding_completed" BOOLEAN NOT NULL DEFAULT false,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "bench_user_settings_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "bench_audit_events" (
    "id" BIGSERIAL NOT NULL,
    "timestamp" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "user_id" UUID,
    "username" TEXT,
    "action" TEXT NOT NULL,
    "resource_type" TEXT,
    "resource_id" TEXT,
    "detail" TEXT,
    "ip_address" TEXT,
    "user_agent" TEXT,

    CONSTRAINT "bench_audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "bench_users_email_key" ON "bench_users"("email");

-- CreateIndex
CREATE INDEX "bench_users_created_at_idx" ON "bench_users"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "bench_refresh_tokens_token_hash_key" ON "bench_refresh_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "bench_refresh_tokens_family_id_idx" ON "bench_refresh_tokens"("family_id");

-- CreateIndex
CREATE INDEX "bench_refresh_tokens_user_id_idx" ON "bench_refresh_tokens"("user_id");

-- CreateIndex
CREATE INDEX "bench_cli_tokens_user_id_idx" ON "bench_cli_tokens"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "bench_providers_user_id_provider_key_key" ON "bench_providers"("user_id", "provider_key");

-- CreateIndex
CREATE UNIQUE INDEX "bench_models_provider_id_model_id_key" ON "bench_models"("provider_id", "model_id");

-- CreateIndex
CREATE UNIQUE INDEX "bench_provider_keys_user_id_provider_key_key" ON "bench_provider_keys"("user_id", "provider_key");

-- CreateIndex
CREATE UNIQUE INDEX "bench_prompt_templates_user_id_key_key" ON "bench_prompt_templates"("user_id", "key");

-- CreateIndex
CREATE INDEX "bench_audit_events_timestamp_idx" ON "bench_audit_events"("timestamp");

-- CreateIndex
CREATE INDEX "bench_audit_events_user_id_timestamp_idx" ON "bench_audit_events"("user_id", "timestamp");

-- CreateIndex
CREATE INDEX "bench_audit_events_action_timestamp_idx" ON "bench_audit_events"("action", "timestamp");

-- AddForeignKey
ALTER TABLE "bench_refresh_tokens" ADD CONSTRAINT "bench_refresh_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bench_cli_tokens" ADD CONSTRAINT "bench_cli_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bench_providers" ADD CONSTRAINT "bench_providers_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bench_models" ADD CONSTRAINT "bench_models_provider_id_fkey" FOREIGN KEY ("provider_id") REFERENCES "bench_providers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bench_provider_keys" ADD CONSTRAINT "bench_provider_keys_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bench_prompt_templates" ADD CONSTRAINT "bench_prompt_templates_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bench_user_settings" ADD CONSTRAINT "bench_user_settings_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "bench_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
