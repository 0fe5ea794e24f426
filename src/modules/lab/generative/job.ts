// GenerativeJob (`POST /api/v1/job/` with `{"generative_process_id"}`, as DashAI's frontend runs a process):
// calls the session's endpoint. Text is streamed into the process's output row as it arrives (written at most
// every FLUSH_MS), so GET /{id} and the SSE stream show it growing even when a separate worker runs the job;
// images are saved under LAB_DATA_DIR/generative/. A failure or a cancel leaves the process in ERROR.
import { z } from "zod";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { ValidationError } from "../../../platform/errors.js";
import { defineJob, PermanentJobError } from "../../../platform/jobs.js";
import type { LabJobKind } from "../jobs/service.js";
import { type ChatMessage, generateImages, ProviderCallError, streamChat } from "./client.js";
import { IMAGE_TASK } from "./components.js";
import { assertQueueable, type LabGenerativeService, PROCESS_STATUS } from "./service.js";

export interface GenerativeJobData {
  processId: number;
}

const FLUSH_MS = 100;
const kwargsSchema = z.object({ generative_process_id: z.coerce.number().int().min(1).max(2_147_483_647) });

export function generativeJob(deps: {
  prisma: PrismaClient;
  generative: LabGenerativeService;
}): LabJobKind<GenerativeJobData> {
  const { prisma, generative } = deps;

  const fail = (processId: number, error: string) =>
    prisma.labGenerativeProcess.updateMany({
      where: { id: processId },
      data: { status: PROCESS_STATUS.ERROR, error, endTime: new Date() },
    });

  const type = defineJob<GenerativeJobData, { outputs: number }>({
    name: "lab.GenerativeJob",
    timeoutSeconds: 15 * 60,
    run: async ({ data, signal, progress }) => {
      const { processId } = data;
      try {
        const started = await prisma.labGenerativeProcess.updateMany({
          where: { id: processId },
          data: { status: PROCESS_STATUS.STARTED, error: null, startTime: new Date(), endTime: null },
        });
        if (started.count === 0)
          throw new PermanentJobError(`generative process ${processId} no longer exists`);
        await prisma.labProcessData.deleteMany({ where: { processId, isInput: false } });
        const process = await generative.process(processId);
        const session = await generative.get(process.session_id);
        const parameters = process.parameters;
        const prompt = process.input.find((d) => d.data_type === "str")?.data ?? "";
        const endpoint = await generative.endpointOf(process.session_id);
        progress(5, "Calling the model");
        let outputs = 0;
        if (session.task_name === IMAGE_TASK) {
          const images = await generateImages(
            endpoint,
            prompt,
            { size: String(parameters.size ?? "512x512"), n: Number(parameters.n ?? 1) },
            signal,
          );
          for (const [position, bytes] of images.entries()) {
            const name = await generative.saveImage(bytes);
            await prisma.labProcessData.create({
              data: { processId, isInput: false, dataType: "Image", data: name, position },
            });
          }
          outputs = images.length;
        } else {
          const messages: ChatMessage[] = [];
          if (typeof parameters.system_prompt === "string" && parameters.system_prompt !== "")
            messages.push({ role: "system", content: parameters.system_prompt });
          const turns = await generative.historyBefore(process, Number(parameters.history_turns ?? 10));
          for (const [question, answer] of turns)
            messages.push({ role: "user", content: question }, { role: "assistant", content: answer });
          messages.push({ role: "user", content: prompt });
          const row = await prisma.labProcessData.create({
            data: { processId, isInput: false, dataType: "str", data: "", position: 0 },
          });
          let text = "";
          let written = "";
          let lastFlush = 0;
          let flushing: Promise<unknown> = Promise.resolve();
          const flush = () => {
            if (text === written) return flushing;
            written = text;
            const snapshot = text;
            flushing = flushing.then(() =>
              prisma.labProcessData.update({ where: { id: row.id }, data: { data: snapshot } }),
            );
            return flushing;
          };
          text = await streamChat(
            endpoint,
            messages,
            {
              temperature: Number(parameters.temperature ?? 0.7),
              maxTokens: Number(parameters.max_tokens ?? 512),
            },
            signal,
            (piece) => {
              text += piece;
              const now = Date.now();
              if (now - lastFlush >= FLUSH_MS) {
                lastFlush = now;
                void flush();
              }
            },
          );
          await flush();
          outputs = 1;
        }
        signal.throwIfAborted();
        await prisma.labGenerativeProcess.updateMany({
          where: { id: processId },
          data: { status: PROCESS_STATUS.FINISHED, error: null, endTime: new Date() },
        });
        progress(100, "Done");
        return { outputs };
      } catch (error) {
        const message = signal.aborted
          ? "Cancelled"
          : error instanceof ProviderCallError || error instanceof PermanentJobError
            ? error.message
            : (((error as { detail?: unknown }).detail as string | undefined) ?? (error as Error).message);
        await fail(processId, String(message).slice(0, 2000)).catch(() => undefined);
        if (signal.aborted) throw error;
        throw new PermanentJobError(String(message));
      }
    },
  });

  return {
    jobType: "GenerativeJob",
    type,
    prepare: async ({ kwargs }) => {
      const parsed = kwargsSchema.safeParse(kwargs);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw ValidationError.field(["body", "kwargs", ...issue.path.map(String)], issue.message);
      }
      const process = await generative.process(parsed.data.generative_process_id);
      assertQueueable(process.status, process.id);
      return { processId: process.id };
    },
    enqueued: async (data, jobId) => {
      await prisma.labGenerativeProcess.updateMany({
        where: { id: data.processId },
        data: { status: PROCESS_STATUS.DELIVERED, jobId, error: null },
      });
    },
  };
}
