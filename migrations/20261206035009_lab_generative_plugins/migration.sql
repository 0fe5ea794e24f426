-- CreateTable
CREATE TABLE "lab_generative_sessions" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "task_name" TEXT NOT NULL,
    "model_name" TEXT NOT NULL,
    "parameters" JSONB NOT NULL DEFAULT '{}',
    "key_ciphertext" TEXT,
    "key_id" TEXT,
    "key_last_four" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lab_generative_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lab_generative_parameter_history" (
    "id" SERIAL NOT NULL,
    "session_id" INTEGER NOT NULL,
    "model_name" TEXT NOT NULL,
    "parameters" JSONB NOT NULL,
    "modified_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "lab_generative_parameter_history_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lab_generative_processes" (
    "id" SERIAL NOT NULL,
    "session_id" INTEGER NOT NULL,
    "status" INTEGER NOT NULL DEFAULT 0,
    "job_id" TEXT,
    "error" TEXT,
    "parameters" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "start_time" TIMESTAMPTZ(3),
    "end_time" TIMESTAMPTZ(3),

    CONSTRAINT "lab_generative_processes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lab_process_data" (
    "id" SERIAL NOT NULL,
    "process_id" INTEGER NOT NULL,
    "is_input" BOOLEAN NOT NULL,
    "data_type" TEXT NOT NULL,
    "data" TEXT NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "lab_process_data_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lab_plugins" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "description" TEXT,
    "source" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lab_plugins_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "lab_generative_sessions_name_key" ON "lab_generative_sessions"("name");

-- CreateIndex
CREATE INDEX "lab_generative_parameter_history_session_id_idx" ON "lab_generative_parameter_history"("session_id");

-- CreateIndex
CREATE INDEX "lab_generative_processes_session_id_idx" ON "lab_generative_processes"("session_id");

-- CreateIndex
CREATE INDEX "lab_process_data_process_id_idx" ON "lab_process_data"("process_id");

-- CreateIndex
CREATE UNIQUE INDEX "lab_plugins_name_key" ON "lab_plugins"("name");

-- AddForeignKey
ALTER TABLE "lab_generative_parameter_history" ADD CONSTRAINT "lab_generative_parameter_history_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "lab_generative_sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lab_generative_processes" ADD CONSTRAINT "lab_generative_processes_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "lab_generative_sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lab_process_data" ADD CONSTRAINT "lab_process_data_process_id_fkey" FOREIGN KEY ("process_id") REFERENCES "lab_generative_processes"("id") ON DELETE CASCADE ON UPDATE CASCADE;
