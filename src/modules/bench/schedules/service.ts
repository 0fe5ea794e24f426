// Schedules: a saved benchmark run every N hours or on a cron expression, by the platform job queue. A tick job
// (an interval schedule of the queue: exactly one tick per period across all instances) claims the due
// schedules (next_run moved forward in the same UPDATE that checks it, so a firing is claimed once) and queues
// one run job per firing; a worker on any instance runs it through the RunService, so results land in history.
import cronParser from "cron-parser";
import type { Logger } from "pino";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { NotFoundError, ValidationError } from "../../../platform/errors.js";
import { defineJob, PermanentJobError, type JobQueue } from "../../../platform/jobs.js";
import type { ProviderService } from "../providers/service.js";
import type { RunService } from "../runs/service.js";
import { SCHEDULES_MAX, type CreateSchedule, type UpdateSchedule } from "./schedules.schema.js";

const HOUR_MS = 3_600_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface RunJobData {
  scheduleId: string;
  /** "schedule" for a firing, "manual" for trigger-now. */
  trigger: "schedule" | "manual";
}

/** The next firing after `from`: `interval_hours` after it, or the cron expression's next time. */
export function nextRun(
  schedule: { intervalHours: number | null; cron: string | null; tz: string | null },
  from: Date,
): Date | null {
  if (schedule.cron) {
    return cronParser
      .parseExpression(schedule.cron, { currentDate: from, tz: schedule.tz ?? "UTC" })
      .next()
      .toDate();
  }
  if (schedule.intervalHours) return new Date(from.getTime() + schedule.intervalHours * HOUR_MS);
  return null;
}

type Row = NonNullable<Awaited<ReturnType<PrismaClient["benchSchedule"]["findFirst"]>>>;

function wire(row: Row) {
  return {
    id: row.id,
    user_id: row.userId,
    name: row.name,
    prompt: row.prompt,
    models: row.models,
    max_tokens: row.maxTokens,
    temperature: row.temperature,
    runs: row.runs,
    context_tiers: row.contextTiers,
    warmup: row.warmup,
    interval_hours: row.intervalHours,
    cron: row.cron,
    tz: row.tz,
    enabled: row.enabled ? (1 as const) : (0 as const),
    last_run: row.lastRun?.toISOString() ?? null,
    next_run: row.nextRun?.toISOString() ?? null,
    created: row.createdAt.toISOString(),
  };
}

export class ScheduleService {
  readonly runJob;
  readonly tickJob;

  constructor(
    private readonly deps: {
      prisma: PrismaClient;
      jobs: JobQueue;
      runs: RunService;
      /** Tool evals: their stale runs are closed by the same tick. */
      evals?: { failStale(): Promise<number> };
      providers: ProviderService;
      log: Logger;
      tickSeconds: number;
    },
  ) {
    this.runJob = defineJob<RunJobData, { run_id: string; status: string }>({
      name: "bench.schedule.run",
      // A firing that finds the user's benchmark slot taken (409) tries again a minute later.
      retry: { limit: 3, delaySeconds: 60 },
      timeoutSeconds: 6 * 3600,
      run: (context) => this.fire(context.data, context.signal),
    });
    this.tickJob = defineJob<Record<string, never>, { queued: number }>({
      name: "bench.schedules.tick",
      schedule: { everySeconds: deps.tickSeconds, data: {} },
      timeoutSeconds: 300,
      run: () => this.tick(),
    });
    deps.jobs.register(this.runJob, this.tickJob);
  }

  /** Claims every due schedule (once, whatever the number of ticks racing) and queues its run. */
  async tick(now = new Date()): Promise<{ queued: number }> {
    const { prisma } = this.deps;
    // The same periodic job closes the runs of instances that died.
    await this.deps.runs
      .failStale()
      .catch((error: unknown) => this.deps.log.warn({ err: error }, "closing stale benchmark runs failed"));
    await this.deps.evals
      ?.failStale()
      .catch((error: unknown) => this.deps.log.warn({ err: error }, "closing stale tool evals failed"));
    const due = await prisma.benchSchedule.findMany({
      where: { enabled: true, nextRun: { lte: now } },
      orderBy: { nextRun: "asc" },
      take: 500,
    });
    let queued = 0;
    for (const schedule of due) {
      let next: Date | null;
      try {
        // From now, not from the missed time: a server that was down does not fire every missed slot.
        next = nextRun(schedule, now);
      } catch {
        next = null;
      }
      const claimed = await prisma.benchSchedule.updateMany({
        where: { id: schedule.id, enabled: true, nextRun: schedule.nextRun },
        data: { nextRun: next },
      });
      if (claimed.count !== 1) continue;
      await this.deps.jobs.enqueue(this.runJob, { scheduleId: schedule.id, trigger: "schedule" });
      queued += 1;
    }
    return { queued };
  }

  /** Runs one firing: the saved benchmark, as its owner, stored in history with the schedule as metadata. */
  private async fire(data: RunJobData, signal: AbortSignal) {
    const schedule = await this.deps.prisma.benchSchedule.findUnique({ where: { id: data.scheduleId } });
    if (!schedule) throw new PermanentJobError("schedule deleted");
    let run;
    try {
      run = await this.deps.runs.begin(
        { userId: schedule.userId },
        {
          models: schedule.models,
          runs: schedule.runs,
          max_tokens: schedule.maxTokens,
          temperature: schedule.temperature,
          prompt: schedule.prompt,
          context_tiers: schedule.contextTiers,
          warmup: schedule.warmup,
        },
        {
          source: "schedule",
          scheduleId: schedule.id,
          metadata: {
            source: data.trigger === "manual" ? "schedule_trigger" : "schedule",
            schedule_id: schedule.id,
            schedule_name: schedule.name,
          },
          skipRateLimit: true,
        },
      );
    } catch (error) {
      // A config that cannot run (a model removed since) will not run on a retry either.
      if (error instanceof ValidationError) throw new PermanentJobError(error.message);
      throw error;
    }
    await this.deps.prisma.benchSchedule.updateMany({
      where: { id: schedule.id },
      data: { lastRun: new Date() },
    });
    const onAbort = () => this.deps.runs.abortRun(run.id);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const status = await run.done;
      this.deps.log.info({ scheduleId: schedule.id, runId: run.id, status }, "scheduled benchmark finished");
      return { run_id: run.id, status };
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  async list(userId: string) {
    const rows = await this.deps.prisma.benchSchedule.findMany({
      where: { userId },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    });
    return { schedules: rows.map(wire) };
  }

  async create(userId: string, input: CreateSchedule) {
    const timing = this.timing(input.interval_hours ?? null, input.cron ?? null, input.tz ?? null);
    await this.checkModels(userId, input.models);
    const count = await this.deps.prisma.benchSchedule.count({ where: { userId } });
    if (count >= SCHEDULES_MAX)
      throw ValidationError.field(["body"], `at most ${SCHEDULES_MAX} schedules per user`, "too_many");
    const row = await this.deps.prisma.benchSchedule.create({
      data: {
        userId,
        name: input.name,
        prompt: input.prompt,
        models: input.models,
        maxTokens: input.max_tokens,
        temperature: input.temperature,
        runs: input.runs,
        contextTiers: input.context_tiers,
        warmup: input.warmup,
        ...timing,
        nextRun: nextRun(timing, new Date()),
      },
    });
    return { status: "ok" as const, id: row.id };
  }

  async update(userId: string, input: UpdateSchedule) {
    const row = await this.find(userId, input.schedule_id);
    const timingChanged =
      input.interval_hours !== undefined || input.cron !== undefined || input.tz !== undefined;
    let timing = { intervalHours: row.intervalHours, cron: row.cron, tz: row.tz };
    if (timingChanged) {
      // Setting one kind of timing replaces the other.
      const cron = input.cron !== undefined ? input.cron : input.interval_hours ? null : row.cron;
      const interval =
        input.interval_hours !== undefined ? input.interval_hours : input.cron ? null : row.intervalHours;
      timing = this.timing(interval, cron, input.tz !== undefined ? input.tz : row.tz);
    }
    if (input.models) await this.checkModels(userId, input.models);
    const enabled = input.enabled === undefined ? row.enabled : Boolean(input.enabled);
    const reschedule = timingChanged || (enabled && !row.enabled);
    await this.deps.prisma.benchSchedule.update({
      where: { id: row.id },
      data: {
        ...(input.name !== undefined && { name: input.name }),
        ...(input.prompt !== undefined && { prompt: input.prompt }),
        ...(input.models !== undefined && { models: input.models }),
        ...(input.max_tokens !== undefined && { maxTokens: input.max_tokens }),
        ...(input.temperature !== undefined && { temperature: input.temperature }),
        ...(input.runs !== undefined && { runs: input.runs }),
        ...(input.context_tiers !== undefined && { contextTiers: input.context_tiers }),
        ...(input.warmup !== undefined && { warmup: input.warmup }),
        ...timing,
        enabled,
        ...(reschedule && { nextRun: nextRun(timing, new Date()) }),
      },
    });
    return { status: "ok" as const };
  }

  async delete(userId: string, scheduleId: string) {
    const row = await this.find(userId, scheduleId);
    await this.deps.prisma.benchSchedule.delete({ where: { id: row.id } });
    return { status: "ok" as const };
  }

  /** POST /api/schedules/{id}/trigger: one run now, in the background (the job queue), next_run unchanged. */
  async trigger(userId: string, scheduleId: string) {
    const row = await this.find(userId, scheduleId);
    const jobId = await this.deps.jobs.enqueue(this.runJob, { scheduleId: row.id, trigger: "manual" });
    return { status: "ok" as const, message: "Benchmark triggered", job_id: jobId };
  }

  private async find(userId: string, scheduleId: string) {
    const row = UUID.test(scheduleId)
      ? await this.deps.prisma.benchSchedule.findFirst({ where: { id: scheduleId, userId } })
      : null;
    if (!row) throw new NotFoundError("Schedule not found");
    return row;
  }

  /** Exactly one of interval_hours and cron; a cron expression and its time zone must parse. */
  private timing(intervalHours: number | null, cron: string | null, tz: string | null) {
    if (intervalHours && cron)
      throw ValidationError.field(["body", "cron"], "give either interval_hours or cron, not both");
    if (!intervalHours && !cron)
      throw ValidationError.field(
        ["body", "interval_hours"],
        "interval_hours (≥ 1) or cron is required",
        "missing",
      );
    if (cron) {
      if (cron.split(/\s+/).length !== 5)
        throw ValidationError.field(
          ["body", "cron"],
          "cron must have 5 fields (minute hour day month weekday)",
        );
      try {
        cronParser.parseExpression(cron, { tz: tz ?? "UTC" }).next();
      } catch (error) {
        const bad = tz && !isTimeZone(tz);
        throw ValidationError.field(
          ["body", bad ? "tz" : "cron"],
          bad ? `unknown time zone: ${tz}` : `invalid cron expression: ${(error as Error).message}`,
        );
      }
    } else if (tz && !isTimeZone(tz)) {
      throw ValidationError.field(["body", "tz"], `unknown time zone: ${tz}`);
    }
    return { intervalHours: cron ? null : intervalHours, cron: cron ?? null, tz: tz ?? null };
  }

  private async checkModels(userId: string, models: string[]) {
    const { missing } = await this.deps.providers.resolveModels(userId, models);
    if (missing.length > 0)
      throw ValidationError.field(
        ["body", "models"],
        `models not found in your config: ${missing.slice(0, 10).join(", ")}`,
        "unknown_model",
      );
  }
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
