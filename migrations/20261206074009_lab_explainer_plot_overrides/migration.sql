-- AlterTable
ALTER TABLE "lab_explainers" ADD COLUMN     "plot_overrides" JSONB;
