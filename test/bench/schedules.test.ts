import { randomUUID } from "node:crypto";
/**
 * Schedules over real HTTP: CRUD with interval or cron timing and 422s naming the field, trigger now (a job
 * that runs the saved benchmark against the stand-in; the run lands in history with the schedule as
 * metadata), and a due schedule fired exactly once with two instances running the job queue.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LlmStandin, startLlmStandin } from "../support/llm-standin.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { registerUser, request, type SignedInUser, userWithStandin } from "./helpers.js";

let t: TestServer;
let standin: LlmStandin;
let user: SignedInUser;

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const scheduledRuns = async (scheduleId: string) =>
  (await request(t, "GET", "/api/history", { token: user.token })).body.runs.filter(
    (run: any) => run.metadata && JSON.parse(run.metadata).schedule_id === scheduleId,
  );

beforeAll(async () => {
  standin = await startLlmStandin({ behaviour: { ttftMs: 10, tokensPerSecond: 1000, outputTokens: 8 } });
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback", BENCH_SCHEDULE_TICK_SECONDS: "1" } });
  await registerUser(t);
  user = await userWithStandin(t, standin, ["m1"]);
}, 60_000);
afterAll(async () => {
  await t?.close();
  await standin?.close();
});

describe("schedules", () => {
  it("creates interval and cron schedules, lists, updates and deletes them", async () => {
    const before = Date.now();
    const hourly = await request(t, "POST", "/api/schedules", {
      token: user.token,
      body: { name: "hourly", prompt: "hi", models: ["local/m1"], interval_hours: 2 },
    });
    expect(hourly.status).toBe(200);
    expect(hourly.body).toEqual({ status: "ok", id: expect.any(String) });
    const nightly = await request(t, "POST", "/api/schedules", {
      token: user.token,
      body: {
        name: "nightly",
        prompt: "hi",
        models: ["local/m1"],
        cron: "0 3 * * *",
        runs: 2,
        context_tiers: [0, 100],
      },
    });
    expect(nightly.status).toBe(200);

    const list = await request(t, "GET", "/api/schedules", { token: user.token });
    expect(list.body.schedules).toHaveLength(2);
    const [a, b] = list.body.schedules;
    expect(a).toMatchObject({
      id: hourly.body.id,
      user_id: user.id,
      name: "hourly",
      models: ["local/m1"],
      max_tokens: 512,
      temperature: 0.7,
      interval_hours: 2,
      cron: null,
      enabled: 1,
      last_run: null,
    });
    const next = Date.parse(a.next_run) - before;
    expect(next).toBeGreaterThanOrEqual(2 * 3600_000 - 1000);
    expect(next).toBeLessThan(2 * 3600_000 + 60_000);
    expect(b).toMatchObject({ cron: "0 3 * * *", interval_hours: null, runs: 2, context_tiers: [0, 100] });
    expect(new Date(b.next_run).getUTCHours()).toBe(3);
    expect(new Date(b.next_run).getUTCMinutes()).toBe(0);

    const disable = await request(t, "PUT", `/api/schedules/${a.id}`, {
      token: user.token,
      body: { enabled: 0, name: "renamed", interval_hours: 24 },
    });
    expect(disable.body).toEqual({ status: "ok" });
    const changed = (await request(t, "GET", "/api/schedules", { token: user.token })).body.schedules[0];
    expect(changed).toMatchObject({ name: "renamed", enabled: 0, interval_hours: 24 });
    expect(Date.parse(changed.next_run) - Date.now()).toBeGreaterThan(23 * 3600_000);
    // Switching to cron replaces the interval.
    await request(t, "PUT", `/api/schedules/${a.id}`, { token: user.token, body: { cron: "*/5 * * * *" } });
    const cron = (await request(t, "GET", "/api/schedules", { token: user.token })).body.schedules[0];
    expect(cron).toMatchObject({ cron: "*/5 * * * *", interval_hours: null });

    const other = await registerUser(t);
    expect((await request(t, "DELETE", `/api/schedules/${a.id}`, { token: other.token })).status).toBe(404);
    expect((await request(t, "POST", `/api/schedules/${a.id}/trigger`, { token: other.token })).status).toBe(
      404,
    );
    expect((await request(t, "GET", "/api/schedules", { token: other.token })).body.schedules).toEqual([]);
    for (const id of [a.id, b.id])
      expect((await request(t, "DELETE", `/api/schedules/${id}`, { token: user.token })).body).toEqual({
        status: "ok",
      });
    expect((await request(t, "GET", "/api/schedules", { token: user.token })).body.schedules).toEqual([]);
    expect((await request(t, "PUT", "/api/schedules/nope", { token: user.token, body: {} })).status).toBe(
      404,
    );
  });

  it("refuses bad schedules with 422 naming the field", async () => {
    const base = { name: "x", prompt: "p", models: ["local/m1"] };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base }, "interval_hours"],
      [{ ...base, interval_hours: 0.5 }, "interval_hours"],
      [{ ...base, interval_hours: 1, cron: "0 * * * *" }, "cron"],
      [{ ...base, cron: "not a cron" }, "cron"],
      [{ ...base, cron: "61 * * * *" }, "cron"],
      [{ ...base, cron: "0 3 * * *", tz: "Mars/Olympus" }, "tz"],
      [{ ...base, models: ["local/none"], interval_hours: 1 }, "models"],
      [{ ...base, models: [], interval_hours: 1 }, "models"],
      [{ ...base, interval_hours: 1, runs: 21 }, "runs"],
      [{ ...base, interval_hours: 1, temperature: 3 }, "temperature"],
      [{ prompt: "p", models: ["local/m1"], interval_hours: 1 }, "name"],
    ];
    for (const [body, field] of cases) {
      const res = await request(t, "POST", "/api/schedules", { token: user.token, body });
      expect({ body, status: res.status }).toEqual({ body, status: 422 });
      expect(res.body.detail.map((d: any) => d.loc[1])).toContain(field);
    }
    expect((await request(t, "GET", "/api/schedules", { token: user.token })).body.schedules).toEqual([]);
  });

  it("trigger now runs the saved benchmark in the background; the run lands in history", async () => {
    const created = await request(t, "POST", "/api/schedules", {
      token: user.token,
      body: { name: "manual", prompt: "scheduled prompt", models: ["local/m1"], interval_hours: 24, runs: 2 },
    });
    const id = created.body.id;
    const trigger = await request(t, "POST", `/api/schedules/${id}/trigger`, { token: user.token });
    expect(trigger.status).toBe(200);
    expect(trigger.body).toMatchObject({ status: "ok", message: "Benchmark triggered" });
    const [run] = await until(
      () => scheduledRuns(id),
      (runs) => runs.length === 1,
    );
    expect(run).toMatchObject({ prompt: "scheduled prompt", status: "completed" });
    expect(JSON.parse(run.metadata)).toEqual({
      source: "schedule_trigger",
      schedule_id: id,
      schedule_name: "manual",
    });
    expect(run.results).toHaveLength(2);
    expect(run.results.every((r: any) => r.success && r.output_tokens === 8)).toBe(true);
    const schedule = (await request(t, "GET", "/api/schedules", { token: user.token })).body.schedules.find(
      (s: any) => s.id === id,
    );
    expect(schedule.last_run).not.toBeNull();
    // Trigger-now leaves the schedule's timing alone.
    expect(Date.parse(schedule.next_run) - Date.now()).toBeGreaterThan(23 * 3600_000);
    // Scheduled runs do not spend the user's hourly benchmarks.
    const limit = await request(t, "GET", "/api/user/rate-limit", { token: user.token });
    expect(limit.body.remaining).toBe(limit.body.limit);
  });

  it("a due schedule fires exactly once with two instances running the queue, then waits its interval", async () => {
    const second = await startTestServer({
      sharedWith: t,
      env: { TRUSTED_PROXIES: "loopback", BENCH_SCHEDULE_TICK_SECONDS: "1" },
    });
    try {
      const created = await request(t, "POST", "/api/schedules", {
        token: user.token,
        body: { name: "due", prompt: "due prompt", models: ["local/m1"], interval_hours: 1 },
      });
      const id = created.body.id;
      await t.server.deps.db.prisma.benchSchedule.update({
        where: { id },
        data: { nextRun: new Date(Date.now() - 60_000) },
      });
      const [run] = await until(
        () => scheduledRuns(id),
        (runs) => runs.length >= 1,
      );
      expect(JSON.parse(run.metadata)).toEqual({ source: "schedule", schedule_id: id, schedule_name: "due" });
      // Several more ticks on both instances: still one run.
      await new Promise((r) => setTimeout(r, 3500));
      expect(await scheduledRuns(id)).toHaveLength(1);
      const schedule = (
        await request(second, "GET", "/api/schedules", { token: user.token })
      ).body.schedules.find((s: any) => s.id === id);
      const wait = Date.parse(schedule.next_run) - Date.now();
      expect(wait).toBeGreaterThan(3600_000 - 60_000);
      expect(wait).toBeLessThanOrEqual(3600_000);
      // A disabled schedule does not fire.
      await request(t, "PUT", `/api/schedules/${id}`, { token: user.token, body: { enabled: false } });
      await t.server.deps.db.prisma.benchSchedule.update({
        where: { id },
        data: { nextRun: new Date(Date.now() - 60_000) },
      });
      await new Promise((r) => setTimeout(r, 2500));
      expect(await scheduledRuns(id)).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it("the tick closes runs left running by an instance that died (no heartbeat), not live ones", async () => {
    const prisma = t.server.deps.db.prisma;
    const row = (heartbeatAt: Date) =>
      prisma.benchRun.create({
        data: {
          userId: user.id,
          prompt: "p",
          contextTiers: [0],
          status: "running",
          instance: "dead-host:1:abcd",
          heartbeatAt,
        },
      });
    const dead = await row(new Date(Date.now() - 10 * 60_000));
    const live = await row(new Date());
    const closed = await until(
      () => request(t, "GET", `/api/history/${dead.id}`, { token: user.token }),
      (res) => res.body.status !== "running",
    );
    expect(closed.body).toMatchObject({ status: "failed", finished_at: expect.any(String) });
    expect((await request(t, "GET", `/api/history/${live.id}`, { token: user.token })).body.status).toBe(
      "running",
    );
    await prisma.benchRun.delete({ where: { id: live.id } });
  });

  it("the tick closes every other kind of run left running by a dead instance too (shared run lifecycle)", async () => {
    const prisma = t.server.deps.db.prisma;
    const old = new Date(Date.now() - 10 * 60_000);
    const base = { userId: user.id, status: "running" };
    const tool = { ...base, suiteName: "s", models: ["m"] };
    const rows = async (heartbeatAt: Date) => ({
      eval: await prisma.benchEvalRun.create({
        data: { ...tool, temperature: 0, toolChoice: "required", heartbeatAt },
      }),
      paramTune: await prisma.benchParamTune.create({
        data: { ...tool, searchSpace: {}, strategy: "grid", totalCombos: 1, heartbeatAt },
      }),
      promptTune: await prisma.benchPromptTune.create({
        data: {
          ...base,
          suiteName: "s",
          targetModels: ["m"],
          metaModel: "m",
          mode: "quick",
          basePrompt: "p",
          config: {},
          totalPrompts: 1,
          heartbeatAt,
        },
      }),
      label: await prisma.benchLabelRun.create({
        data: { ...tool, datasetId: randomUUID(), temperature: 0, heartbeatAt },
      }),
      judge: await prisma.benchJudgeReport.create({
        data: { ...base, mode: "post_eval", judgeModel: "j", judgeModelName: "j", heartbeatAt },
      }),
    });
    const dead = await rows(old);
    const live = await rows(new Date());
    const statuses = async (r: typeof dead) => {
      const found = await Promise.all([
        prisma.benchEvalRun.findUnique({ where: { id: r.eval.id } }),
        prisma.benchParamTune.findUnique({ where: { id: r.paramTune.id } }),
        prisma.benchPromptTune.findUnique({ where: { id: r.promptTune.id } }),
        prisma.benchLabelRun.findUnique({ where: { id: r.label.id } }),
        prisma.benchJudgeReport.findUnique({ where: { id: r.judge.id } }),
      ]);
      return found.map((row) => [row!.status, row!.error, row!.finishedAt !== null]);
    };
    const interrupted = "interrupted: the instance running it stopped";
    await expect
      .poll(() => statuses(dead), { timeout: 20_000, interval: 250 })
      .toEqual([
        ["failed", interrupted, true],
        ["failed", interrupted, true],
        ["failed", interrupted, true],
        ["failed", interrupted, true],
        ["error", interrupted, true], // judge reports say "error"
      ]);
    expect(await statuses(live)).toEqual(Array.from({ length: 5 }, () => ["running", null, false]));
  });
});
