-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN     "hostnames" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "previous_secret_expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "previous_secret_hash" TEXT,
ADD COLUMN     "secret_created_at" TIMESTAMPTZ(3),
ADD COLUMN     "secret_hash" TEXT,
ADD COLUMN     "secret_prefix" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_secret_hash_key" ON "api_keys"("secret_hash");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_previous_secret_hash_key" ON "api_keys"("previous_secret_hash");
