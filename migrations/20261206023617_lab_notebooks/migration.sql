-- CreateTable
CREATE TABLE "lab_notebooks" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "dataset_id" INTEGER,
    "total_rows" INTEGER NOT NULL DEFAULT 0,
    "total_columns" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lab_notebooks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lab_converters" (
    "id" SERIAL NOT NULL,
    "notebook_id" INTEGER NOT NULL,
    "converter" TEXT NOT NULL,
    "parameters" JSONB NOT NULL DEFAULT '{}',
    "scope" JSONB NOT NULL DEFAULT '{}',
    "status" INTEGER NOT NULL DEFAULT 0,
    "job_id" TEXT,
    "error" TEXT,
    "result" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lab_converters_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lab_explorers" (
    "id" SERIAL NOT NULL,
    "notebook_id" INTEGER NOT NULL,
    "name" TEXT,
    "exploration_type" TEXT NOT NULL,
    "columns" JSONB NOT NULL DEFAULT '[]',
    "parameters" JSONB NOT NULL DEFAULT '{}',
    "status" INTEGER NOT NULL DEFAULT 0,
    "job_id" TEXT,
    "error" TEXT,
    "result" JSONB,
    "overrides" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lab_explorers_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "lab_converters_notebook_id_idx" ON "lab_converters"("notebook_id");

-- CreateIndex
CREATE INDEX "lab_explorers_notebook_id_idx" ON "lab_explorers"("notebook_id");

-- AddForeignKey
ALTER TABLE "lab_converters" ADD CONSTRAINT "lab_converters_notebook_id_fkey" FOREIGN KEY ("notebook_id") REFERENCES "lab_notebooks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lab_explorers" ADD CONSTRAINT "lab_explorers_notebook_id_fkey" FOREIGN KEY ("notebook_id") REFERENCES "lab_notebooks"("id") ON DELETE CASCADE ON UPDATE CASCADE;
