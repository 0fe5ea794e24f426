-- AlterTable
ALTER TABLE "tracking_runs" ADD COLUMN     "summary" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "tracking_artifacts" ADD COLUMN     "category" TEXT,
ADD COLUMN     "description" TEXT;
