/**
 * The LLM judge over real HTTP against the stand-in, which plays both the evaluated models and the judge (a
 * configured model like any other) with scripted answers, one of them not the JSON asked for: standalone
 * post-eval grading, live inline and post-eval grading inside a tool eval, compare mode, the stored reports with
 * the judge's prompts and raw answers, listing, deletion, cancel, refusals and auth.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLlmStandin, type LlmStandin } from "../support/llm-standin.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { request, userWithStandin, type SignedInUser } from "./helpers.js";
import { judgeScript, UNPARSABLE } from "./judge-script.js";
import { openEventStream } from "./sse.js";

let t: TestServer;
let standin: LlmStandin;

const example = JSON.parse(readFileSync("docs/bench-tool-suite.example.json", "utf8"));
async function setup(): Promise<{ user: SignedInUser; suiteId: string }> {
  const user = await userWithStandin(t, standin, ["good", "bad", "judge", "slowjudge"]);
  const res = await request(t, "POST", "/api/tool-eval/import", { token: user.token, body: example });
  expect(res.status).toBe(200);
  return { user, suiteId: res.body.suite_id };
}

async function runEval(user: SignedInUser, body: Record<string, unknown>) {
  const stream = await openEventStream(t, user.token, "/api/tool-eval", {
    temperature: 0,
    tool_choice: "required",
    ...body,
  });
  expect(stream.status, JSON.stringify(stream.body)).toBe(200);
  await stream.ended;
  return stream.events.filter((e) => e.type !== "heartbeat");
}

const evalIdOf = (events: any[]) => events.find((e) => e.type === "complete").eval_id as string;

beforeAll(async () => {
  standin = await startLlmStandin({
    behaviour: { ttftMs: 2, tokensPerSecond: 5000, reply: judgeScript },
    // The evaluated `good` model is slower than the judge, so live verdicts come while the eval still runs.
    models: { good: { ttftMs: 80 }, slowjudge: { ttftMs: 5, tokensPerSecond: 1 } },
  });
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback", BENCH_HEARTBEAT_MS: "500" } });
}, 60_000);
afterAll(async () => {
  await t?.close();
  await standin?.close();
});

describe("POST /api/tool-eval/judge (post-eval, standalone)", () => {
  it("grades every result, records the unparsable answer as unparsed, reports per model and stores it all", async () => {
    const { user, suiteId } = await setup();
    const evalId = evalIdOf(await runEval(user, { suite_id: suiteId, models: ["local/good", "local/bad"] }));
    standin.reset();
    const stream = await openEventStream(t, user.token, "/api/tool-eval/judge", {
      eval_run_id: evalId,
      judge_model: "local/judge",
      custom_instructions: "Be strict about units.",
    });
    expect(stream.status).toBe(200);
    await stream.ended;
    const events = stream.events.filter((e) => e.type !== "heartbeat");
    expect(events.map((e) => e.type)).toEqual([
      "judge_start",
      ...Array(4).fill("judge_verdict"),
      "judge_report",
      ...Array(4).fill("judge_verdict"),
      "judge_report",
      "judge_complete",
    ]);
    const reportId = events[0].judge_report_id;
    expect(stream.headers.get("x-judge-report-id")).toBe(reportId);
    expect(events[0]).toMatchObject({ mode: "post_eval", judge_model: "local/judge", cases_to_review: 8 });

    const cases = (await request(t, "GET", `/api/tool-suites/${suiteId}/cases`, { token: user.token })).body
      .cases;
    const promptOf = new Map<string, string>(cases.map((c: any) => [c.id, c.prompt]));
    const verdicts = events.filter((e) => e.type === "judge_verdict");
    const byCase = (m: string, prefix: string) =>
      verdicts.find((v) => v.model_id === m && promptOf.get(v.test_case_id)!.startsWith(prefix));
    // good: pass 5 on three cases; the booking case's answer was prose: unparsed, no score.
    expect(byCase("local/good", "What's")).toMatchObject({ quality_score: 5, verdict: "pass", parsed: true });
    expect(byCase("local/good", "Book")).toMatchObject({
      quality_score: null,
      verdict: "error",
      parsed: false,
      judge_status: "unparsed",
    });
    // bad: weather 0.8 → marginal 3; Ada and the joke scored 0 → fail 1.
    expect(byCase("local/bad", "What's")).toMatchObject({ quality_score: 3, verdict: "marginal" });
    expect(byCase("local/bad", "Find Ada")).toMatchObject({ quality_score: 1, verdict: "fail" });
    expect(byCase("local/bad", "Book")).toMatchObject({ quality_score: null, judge_status: "unparsed" });

    const reports = events.filter((e) => e.type === "judge_report").map((e) => e.report);
    expect(reports[0]).toMatchObject({
      model_id: "local/good",
      overall_grade: "A",
      overall_score: 95,
      parsed: true,
      verdicts_parsed: 3,
      verdicts_unparsed: 1,
      mean_quality_score: 5,
    });
    // (3 + 1 + 1) / 3 parsed verdicts
    expect(reports[1]).toMatchObject({
      model_id: "local/bad",
      overall_grade: "D+",
      mean_quality_score: 1.67,
    });
    expect(events.at(-1)).toEqual({ type: "judge_complete", judge_report_id: reportId });

    // The judge was called with the user's judge settings (temperature 0, 4096 tokens) and the instructions.
    const judgeCalls = standin.requests.filter((r) => r.model === "judge");
    expect(judgeCalls).toHaveLength(10);
    expect(judgeCalls[0]!.body).toMatchObject({ temperature: 0, max_tokens: 4096 });

    const detail = await request(t, "GET", `/api/tool-eval/judge/reports/${reportId}`, { token: user.token });
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      id: reportId,
      eval_run_id: evalId,
      eval_run_id_b: null,
      mode: "post_eval",
      judge_model: "local/judge",
      status: "completed",
      overall_grade: "A",
      overall_score: 95,
      custom_instructions: "Be strict about units.",
    });
    expect(detail.body.verdicts).toHaveLength(8);
    const unparsed = detail.body.verdicts.find((v: any) => v.judge_status === "unparsed");
    expect(unparsed.judge_answer).toBe(UNPARSABLE);
    expect(unparsed.judge_prompt).toContain("Book 'Design review'");
    expect(unparsed.judge_prompt).toContain("Be strict about units.");
    expect(JSON.parse(detail.body.verdicts_json)).toEqual(detail.body.verdicts);
    expect(detail.body.report).toHaveLength(2);
    expect(detail.body.report[0].judge_answer).toContain('"overall_grade":"A"');

    const list = await request(t, "GET", "/api/tool-eval/judge/reports", { token: user.token });
    expect(list.body.reports).toEqual([
      expect.objectContaining({ id: reportId, mode: "post_eval", status: "completed", overall_score: 95 }),
    ]);
    expect(list.body.reports[0].verdicts).toBeUndefined();
  });

  it("refuses before streaming: 404 for an unknown or another user's eval, 422 naming the judge model", async () => {
    const { user, suiteId } = await setup();
    const evalId = evalIdOf(await runEval(user, { suite_id: suiteId, models: ["local/bad"] }));
    const other = await setup();
    const post = (body: unknown, token = user.token) =>
      request(t, "POST", "/api/tool-eval/judge", { token, body });
    expect((await post({ eval_run_id: evalId, judge_model: "local/judge" }, other.user.token)).status).toBe(
      404,
    );
    expect((await post({ eval_run_id: "nope", judge_model: "local/judge" })).status).toBe(404);
    const unknown = await post({ eval_run_id: evalId, judge_model: "local/nobody" });
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(unknown.body)).toContain("judge_model");
    const missing = await post({ eval_run_id: evalId });
    expect(missing.status).toBe(422);
    expect(JSON.stringify(missing.body)).toContain("judge_model");
    // Inside an eval too: no judge model given and none in the settings.
    const inEval = await request(t, "POST", "/api/tool-eval", {
      token: user.token,
      body: { suite_id: suiteId, models: ["local/bad"], judge: { enabled: true, mode: "live_inline" } },
    });
    expect(inEval.status).toBe(422);
    expect(inEval.text).toContain("judge_model");
  });
});

describe("the judge inside a tool eval", () => {
  it("live inline: each case is graded as it finishes, then the report, then complete", async () => {
    const { user, suiteId } = await setup();
    const events = await runEval(user, {
      suite_id: suiteId,
      models: ["local/good"],
      judge: { enabled: true, mode: "live_inline", judge_model: "local/judge" },
    });
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("judge_start");
    expect(events[0]).toMatchObject({ mode: "live_inline", cases_to_review: 4 });
    expect(types.filter((x) => x === "judge_verdict")).toHaveLength(4);
    // The first verdict arrives while the eval is still running its cases.
    expect(types.indexOf("judge_verdict")).toBeLessThan(types.lastIndexOf("result"));
    expect(types.slice(types.indexOf("model_summary"))).toEqual([
      "model_summary",
      "judge_report",
      "judge_complete",
      "complete",
    ]);
    const reportId = events[0].judge_report_id;
    const evalId = evalIdOf(events);
    const detail = await request(t, "GET", `/api/tool-eval/judge/reports/${reportId}`, { token: user.token });
    expect(detail.body).toMatchObject({
      mode: "live_inline",
      eval_run_id: evalId,
      status: "completed",
      overall_grade: "A",
    });
    expect(detail.body.verdicts.map((v: any) => v.judge_status).sort()).toEqual([
      "parsed",
      "parsed",
      "parsed",
      "unparsed",
    ]);
    // The eval itself is stored as usual.
    const history = await request(t, "GET", `/api/tool-eval/history/${evalId}`, { token: user.token });
    expect(history.body).toMatchObject({ status: "completed" });
    expect(history.body.results).toHaveLength(4);
  });

  it("post_eval: the summaries, then the judge's verdicts and report, then complete", async () => {
    const { user, suiteId } = await setup();
    const events = await runEval(user, {
      suite_id: suiteId,
      models: ["local/bad"],
      judge: { enabled: true, mode: "post_eval", judge_model: "local/judge" },
    });
    expect(events.map((e) => e.type).slice(8)).toEqual([
      "model_summary",
      "judge_start",
      ...Array(4).fill("judge_verdict"),
      "judge_report",
      "judge_complete",
      "complete",
    ]);
    const list = await request(t, "GET", "/api/tool-eval/judge/reports", { token: user.token });
    expect(list.body.reports).toEqual([
      expect.objectContaining({ mode: "post_eval", eval_run_id: evalIdOf(events), overall_grade: "D+" }),
    ]);
  });
});

describe("POST /api/tool-eval/judge/compare", () => {
  it("compares two runs case by case; the unparsable case counts for no one", async () => {
    const { user, suiteId } = await setup();
    const runA = evalIdOf(await runEval(user, { suite_id: suiteId, models: ["local/good"] }));
    const runB = evalIdOf(await runEval(user, { suite_id: suiteId, models: ["local/bad"] }));
    const stream = await openEventStream(t, user.token, "/api/tool-eval/judge/compare", {
      eval_run_id_a: runA,
      eval_run_id_b: runB,
      judge_model: "local/judge",
    });
    expect(stream.status).toBe(200);
    await stream.ended;
    const events = stream.events.filter((e) => e.type !== "heartbeat");
    expect(events.map((e) => e.type)).toEqual([
      "compare_start",
      ...Array(4).fill("compare_case"),
      "compare_complete",
    ]);
    expect(events[0]).toMatchObject({ model_a: "local/good", model_b: "local/bad", cases: 4 });
    const cases = events.filter((e) => e.type === "compare_case");
    expect(cases.filter((c) => c.winner === "model_a")).toHaveLength(3);
    expect(cases.filter((c) => !c.parsed)).toEqual([
      expect.objectContaining({ winner: null, confidence: null, judge_status: "unparsed" }),
    ]);
    const done = events.at(-1);
    expect(done).toMatchObject({
      overall_winner: "model_a",
      score_a: 90,
      score_b: 30,
      summary_source: "judge",
      a_wins: 3,
      b_wins: 0,
      tie_cases: 0,
      unparsed_cases: 1,
    });
    const detail = await request(t, "GET", `/api/tool-eval/judge/reports/${done.judge_report_id}`, {
      token: user.token,
    });
    expect(detail.body).toMatchObject({
      mode: "comparative",
      eval_run_id: runA,
      eval_run_id_b: runB,
      overall_grade: "model_a",
      overall_score: 90,
      status: "completed",
    });
    expect(detail.body.report).toMatchObject({
      model_a: "local/good",
      model_b: "local/bad",
      summary: "A is better.",
    });
    expect(detail.body.verdicts.find((v: any) => !v.parsed).judge_answer).toBe("Both are fine I guess.");
  });

  it("compares two models of one run; refuses the same model twice and a run with no such model", async () => {
    const { user, suiteId } = await setup();
    const run = evalIdOf(await runEval(user, { suite_id: suiteId, models: ["local/good", "local/bad"] }));
    const post = (body: Record<string, unknown>) =>
      request(t, "POST", "/api/tool-eval/judge/compare", {
        token: user.token,
        body: { eval_run_id_a: run, eval_run_id_b: run, judge_model: "local/judge", ...body },
      });
    const same = await post({ model_a: "local/good", model_b: "local/good" });
    expect(same.status).toBe(422);
    expect(same.text).toContain("model_b");
    const absent = await post({ model_a: "local/nobody" });
    expect(absent.status).toBe(422);
    expect(absent.text).toContain("model_a");
    const stream = await openEventStream(t, user.token, "/api/tool-eval/judge/compare", {
      eval_run_id_a: run,
      eval_run_id_b: run,
      judge_model: "local/judge",
    });
    expect(stream.status).toBe(200);
    await stream.ended;
    expect(stream.events[0]).toMatchObject({
      type: "compare_start",
      model_a: "local/good",
      model_b: "local/bad",
    });
    expect(stream.events.at(-1)).toMatchObject({ type: "compare_complete", a_wins: 3 });
  });
});

describe("reports: cancel, deletion, auth", () => {
  it("cancel stops the judge mid-run and keeps the report as cancelled; deletion; 404 for others", async () => {
    const { user, suiteId } = await setup();
    const evalId = evalIdOf(await runEval(user, { suite_id: suiteId, models: ["local/bad"] }));
    const stream = await openEventStream(t, user.token, "/api/tool-eval/judge", {
      eval_run_id: evalId,
      judge_model: "local/slowjudge",
    });
    const start = await stream.waitFor((e) => e.type === "judge_start");
    await standin.waitFor(() => standin.activeStreams.some((s) => s.model === "slowjudge"));
    // One judge (or eval) at a time per user.
    const busy = await request(t, "POST", "/api/tool-eval/judge", {
      token: user.token,
      body: { eval_run_id: evalId, judge_model: "local/judge" },
    });
    expect(busy.status).toBe(409);
    const cancel = await request(t, "POST", "/api/tool-eval/judge/cancel", { token: user.token });
    expect(cancel.body).toEqual({ status: "ok", message: "Cancellation requested" });
    await stream.ended;
    expect(stream.events.filter((e) => e.type !== "heartbeat").map((e) => e.type)).toEqual([
      "judge_start",
      "cancelled",
    ]);
    await standin.waitFor(() => standin.disconnects.some((s) => s.model === "slowjudge"));
    const id = start.judge_report_id;
    const detail = await request(t, "GET", `/api/tool-eval/judge/reports/${id}`, { token: user.token });
    expect(detail.body).toMatchObject({ status: "cancelled", overall_grade: null, verdicts: [] });

    const other = await setup();
    for (const [method, path] of [
      ["GET", `/api/tool-eval/judge/reports/${id}`],
      ["DELETE", `/api/tool-eval/judge/reports/${id}`],
    ] as const)
      expect((await request(t, method, path, { token: other.user.token })).status).toBe(404);
    expect(
      (await request(t, "DELETE", `/api/tool-eval/judge/reports/${id}`, { token: user.token })).body,
    ).toEqual({
      status: "ok",
    });
    expect(
      (await request(t, "GET", `/api/tool-eval/judge/reports/${id}`, { token: user.token })).status,
    ).toBe(404);
    expect(
      (await request(t, "GET", "/api/tool-eval/judge/reports", { token: user.token })).body.reports,
    ).toEqual([]);
  });

  it("refuses anonymous calls on every judge route", async () => {
    const id = "00000000-0000-4000-8000-000000000000";
    for (const [method, path] of [
      ["POST", "/api/tool-eval/judge"],
      ["POST", "/api/tool-eval/judge/compare"],
      ["POST", "/api/tool-eval/judge/cancel"],
      ["GET", "/api/tool-eval/judge/reports"],
      ["GET", `/api/tool-eval/judge/reports/${id}`],
      ["DELETE", `/api/tool-eval/judge/reports/${id}`],
    ] as const) {
      const res = await request(t, method, path, method === "POST" ? { body: {} } : {});
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });
});
