-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN     "scopes" TEXT[] DEFAULT ARRAY['challenge', 'data:read', 'data:write']::TEXT[];
