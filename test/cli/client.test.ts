import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import {
  type BenchEvent,
  createHiveGuardClient,
  type EvalEvent,
  type JudgeEvent,
  HiveGuardError,
  type RouterOutputs,
} from "../../clients/ts/index.js";
import { createDataset } from "../guard/helpers.js";
import { judgeScript } from "../bench/judge-script.js";
import { startLlmStandin } from "../support/llm-standin.js";
import { startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

describe("typed client", () => {
  it("is typed by the server's router: wrong field names and types do not compile", () => {
    const hg = createHiveGuardClient({ url: "http://localhost:1" });
    // Compile-time checks only (tsc runs over the tests in CI); the calls below are never awaited.
    const typedCalls = () => {
      // @ts-expect-error `nmae` is not a field of the dataset create input
      void hg.trpc.guard.datasets.create.mutate({ nmae: "x", modality: "image" });
      // @ts-expect-error modality must be one of image, text, audio
      void hg.trpc.guard.datasets.create.mutate({ name: "x", modality: "video" });
      // @ts-expect-error risk_threshold is a number
      void hg.trpc.guard.config.update.mutate({ risk_threshold: "high" });
      // @ts-expect-error there is no such procedure
      void hg.trpc.guard.datasets.destroyEverything.mutate();
    };
    expect(typeof typedCalls).toBe("function");
    expectTypeOf<RouterOutputs["guard"]["datasets"]["create"]>()
      .toHaveProperty("item_count")
      .toEqualTypeOf<number>();
    expectTypeOf<RouterOutputs["system"]["health"]>().toEqualTypeOf<{ status: "ok"; version: string }>();
  });

  it("calls procedures with dashboard credentials and returns typed results", async () => {
    const hg = createHiveGuardClient({ url: t.url, username: "admin", password: t.shared.dashboardPassword });
    const dataset = await hg.call((c) => c.guard.datasets.create.mutate({ name: "typed", modality: "text" }));
    expect(dataset).toMatchObject({ name: "typed", modality: "text", item_count: 0 });
    const health = await hg.call((c) => c.system.health.query());
    expect(health.status).toBe("ok");
  });

  it("surfaces errors as HiveGuardError with the HTTP status and the documented detail", async () => {
    const anonymous = createHiveGuardClient({ url: t.url });
    const unauthorized = await anonymous.call((c) => c.guard.datasets.list.query()).catch((e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(HiveGuardError);
    expect(unauthorized).toMatchObject({ status: 401, detail: "Unauthorized", rejected: false });
    expect((unauthorized as HiveGuardError).message).toBe(
      `HiveGuard at ${t.url} needs credentials: none were sent (401 Unauthorized)`,
    );

    // Wrong credentials are reported as rejected, naming which ones; the older base64 token still works.
    const wrong = createHiveGuardClient({ url: t.url, username: "admin", password: "wrong-password" });
    const rejected = (await wrong
      .call((c) => c.guard.datasets.list.query())
      .catch((e: unknown) => e)) as HiveGuardError;
    expect(rejected).toMatchObject({ status: 401, rejected: true, credentials: "dashboard" });
    expect(rejected.message).toBe(
      `HiveGuard at ${t.url} rejected the dashboard username/password (401 Unauthorized)`,
    );
    const badKey = createHiveGuardClient({ url: t.url, apiKey: "hg_not-a-real-key" });
    const keyRejected = (await badKey
      .call((c) => c.guard.labels.list.query({}))
      .catch((e: unknown) => e)) as HiveGuardError;
    expect(keyRejected).toMatchObject({ status: 401, rejected: true, credentials: "apiKey" });
    expect(keyRejected.message).toContain("rejected the API key (401");
    const viaToken = createHiveGuardClient({ url: t.url, dashboardToken: t.dashboardAuth.slice(6) });
    expect(await viaToken.call((c) => c.guard.datasets.list.query())).toEqual(expect.any(Array));

    const hg = createHiveGuardClient({ url: t.url, username: "admin", password: t.shared.dashboardPassword });
    const invalid = (await hg
      .call((c) => c.guard.config.update.mutate({ risk_threshold: 7 }))
      .catch((e: unknown) => e)) as HiveGuardError;
    expect(invalid.status).toBe(422);
    expect(invalid.detail).toEqual([expect.objectContaining({ loc: ["input", "risk_threshold"] })]);

    const down = createHiveGuardClient({ url: "http://127.0.0.1:9" });
    const unreachable = (await down
      .call((c) => c.system.health.query())
      .catch((e: unknown) => e)) as HiveGuardError;
    expect(unreachable.unreachable).toBe(true);
    expect(unreachable.message).toContain("http://127.0.0.1:9");
  });

  it("uploads in batches with a progress callback and streams labels page by page", async () => {
    const hg = createHiveGuardClient({ url: t.url, username: "admin", password: t.shared.dashboardPassword });
    const dataset = await hg.call((c) =>
      c.guard.datasets.create.mutate({ name: "batches", modality: "image" }),
    );
    const key = await hg.call((c) =>
      c.guard.apiKeys.create.mutate({ label: "client", datasets: [dataset.id] }),
    );
    const withKey = createHiveGuardClient({ url: t.url, apiKey: key.raw_key });
    const batches: number[] = [];
    const items = Array.from({ length: 250 }, (_, i) => ({
      dataset_id: dataset.id,
      data_ref: `img-${i}.jpg`,
      modality: "image" as const,
    }));
    const result = await withKey.uploadItems(items, {
      batchSize: 100,
      onBatch: (b) => batches.push(b.created),
    });
    expect(batches).toEqual([100, 100, 50]);
    expect(result).toMatchObject({ created: 250, failed: 0 });
    const listed: unknown[] = [];
    for await (const item of withKey.items(100)) listed.push(item);
    expect(listed).toHaveLength(250);
  });
});

describe("typed client for a bench user", () => {
  it("registers, configures a provider, streams a benchmark and reads history with the user's token", async () => {
    const standin = await startLlmStandin({
      behaviour: { ttftMs: 10, tokensPerSecond: 1000, outputTokens: 8 },
    });
    try {
      const anonymous = createHiveGuardClient({ url: t.url });
      const signedIn = await anonymous.call((c) =>
        c.bench.auth.register.mutate({ email: "typed-bench@example.com", password: "correct horse battery" }),
      );
      const bench = createHiveGuardClient({ url: t.url, token: signedIn.access_token });
      expect((await bench.call((c) => c.bench.auth.me.query())).user.email).toBe("typed-bench@example.com");
      await bench.call((c) =>
        c.bench.config.addProvider.mutate({
          provider_key: "local",
          display_name: "Local",
          api_base: standin.baseUrl,
          model_id_prefix: "local",
          kind: "openai_compatible",
        }),
      );
      const model = await bench.call((c) =>
        c.bench.config.addModel.mutate({ provider_key: "local", id: "m1" }),
      );
      expect(model.model_id).toBe("local/m1");

      const events: BenchEvent[] = [];
      for await (const event of bench.benchmark({
        models: ["local/m1"],
        runs: 2,
        warmup: false,
        context_tiers: [0],
      }))
        events.push(event);
      expect(events.filter((e) => e.type === "result")).toHaveLength(2);
      const done = events.at(-1)!;
      expect(done.type).toBe("complete");
      const runs = await bench.call((c) => c.bench.history.list.query({}));
      expect(runs.runs.map((r) => r.id)).toEqual([(done as { run_id: string }).run_id]);

      // Refused before the stream opens: a HiveGuardError naming the field.
      const refused = await (async () => {
        for await (const event of bench.benchmark({ models: ["local/m1"], runs: 99 })) void event;
      })().catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(HiveGuardError);
      expect((refused as HiveGuardError).status).toBe(422);
      expect((refused as HiveGuardError).message).toContain("runs");

      // A token that is not one: the 401 says the bench token was rejected.
      const forged = createHiveGuardClient({ url: t.url, token: "not-a-jwt" });
      const denied = await forged.call((c) => c.bench.auth.me.query()).catch((e: unknown) => e);
      expect((denied as HiveGuardError).rejected).toBe(true);
      expect((denied as HiveGuardError).message).toContain("rejected the bench token");
      expect(() =>
        createHiveGuardClient({ url: t.url, username: "admin", password: "x", token: signedIn.access_token }),
      ).toThrow(/either the dashboard credentials or a bench token/);
    } finally {
      await standin.close();
    }
  });

  it("runs a tool eval with a live judge, then a judge compare, and lists the reports", async () => {
    const standin = await startLlmStandin({
      behaviour: { ttftMs: 2, tokensPerSecond: 5000, reply: judgeScript },
    });
    try {
      const anonymous = createHiveGuardClient({ url: t.url });
      const signedIn = await anonymous.call((c) =>
        c.bench.auth.register.mutate({ email: "typed-judge@example.com", password: "correct horse battery" }),
      );
      const bench = createHiveGuardClient({ url: t.url, token: signedIn.access_token });
      await bench.call((c) =>
        c.bench.config.addProvider.mutate({
          provider_key: "local",
          display_name: "Local",
          api_base: standin.baseUrl,
          model_id_prefix: "local",
          kind: "openai_compatible",
        }),
      );
      for (const id of ["good", "bad", "judge"])
        await bench.call((c) => c.bench.config.addModel.mutate({ provider_key: "local", id }));
      const suite = await bench.call((c) =>
        c.bench.toolSuites.import.mutate(
          JSON.parse(readFileSync("docs/bench-tool-suite.example.json", "utf8")),
        ),
      );

      const events: EvalEvent[] = [];
      for await (const event of bench.toolEval({
        suite_id: suite.suite_id,
        models: ["local/good", "local/bad"],
        judge: { enabled: true, mode: "live_inline", judge_model: "local/judge" },
      }))
        events.push(event);
      const verdicts = events.filter((e) => e.type === "judge_verdict");
      expect(verdicts).toHaveLength(8);
      // The judge answers the booking case in prose: unparsed, no score, for both models.
      expect(verdicts.filter((v) => !v.parsed).map((v) => v.quality_score)).toEqual([null, null]);
      const done = events.at(-1)!;
      expect(done.type).toBe("complete");
      const evalId = (done as { eval_id: string }).eval_id;

      const compared: JudgeEvent[] = [];
      for await (const event of bench.judgeCompare({
        eval_run_id_a: evalId,
        eval_run_id_b: evalId,
        judge_model: "local/judge",
      }))
        compared.push(event);
      expect(compared.at(-1)).toMatchObject({
        type: "compare_complete",
        a_wins: 3,
        tie_cases: 0,
        unparsed_cases: 1,
      });
      const reports = await bench.call((c) => c.bench.judge.reports.query());
      expect(reports.reports.map((r) => r.mode)).toEqual(["comparative", "live_inline"]);

      const refused = await (async () => {
        for await (const event of bench.judge({ eval_run_id: evalId, judge_model: "local/nobody" }))
          void event;
      })().catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(HiveGuardError);
      expect((refused as HiveGuardError).status).toBe(422);
      expect((refused as HiveGuardError).message).toContain("judge_model");
    } finally {
      await standin.close();
    }
  });
});

describe("typed client: labeling runs and the tuners", () => {
  it("streams a labeling run against the crowd, a prompt tune with its estimate and a temperature tune", async () => {
    const standin = await startLlmStandin({
      behaviour: {
        ttftMs: 5,
        tokensPerSecond: 2000,
        reply: (chat) =>
          chat.model === "meta"
            ? { text: JSON.stringify({ prompts: [{ style: "s", prompt: "Use the tools." }] }) }
            : chat.tools.length
              ? { toolCalls: [{ name: "ping", arguments: {} }] }
              : { text: "yes" },
      },
    });
    try {
      // The first bench user of this server (the test above): an admin, who may read guard datasets.
      const login = await createHiveGuardClient({ url: t.url }).call((c) =>
        c.bench.auth.login.mutate({ email: "typed-bench@example.com", password: "correct horse battery" }),
      );
      const bench = createHiveGuardClient({ url: t.url, token: login.access_token });
      await bench.call((c) =>
        c.bench.config.addProvider.mutate({
          provider_key: "crowd",
          display_name: "Crowd",
          api_base: standin.baseUrl,
          model_id_prefix: "crowd",
          kind: "openai_compatible",
        }),
      );
      for (const id of ["meta", "m"])
        await bench.call((c) => c.bench.config.addModel.mutate({ provider_key: "crowd", id }));

      const dataset = await createDataset(t, { name: "Typed", modality: "text", choices: ["yes", "no"] });
      const prisma = t.server.deps.db.prisma;
      const item = await prisma.item.create({
        data: { datasetId: dataset.id, dataRef: "is it?", modality: "text", state: "labeled" },
      });
      await prisma.label.create({
        data: {
          itemId: item.id,
          datasetId: dataset.id,
          label: "yes",
          confidence: 1,
          solverCount: 1,
          voteCount: 1,
        },
      });
      const suite = await bench.call((c) => c.bench.labeling.createSuite.mutate({ dataset_id: dataset.id }));
      const labelEvents = [];
      for await (const event of bench.labelingRun({ suite_id: suite.id, models: ["crowd/m"] }))
        labelEvents.push(event);
      expect(labelEvents.find((e) => e.type === "model_summary")).toMatchObject({ accuracy: 1, correct: 1 });
      expect(labelEvents.at(-1)!.type).toBe("complete");

      const tools = await bench.call((c) =>
        c.bench.toolSuites.import.mutate({
          name: "ping",
          tools: [
            { type: "function", function: { name: "ping", parameters: { type: "object", properties: {} } } },
          ],
          test_cases: [{ prompt: "ping it", expected_tool: "ping" }],
        }),
      );
      const estimate = await bench.call((c) =>
        c.bench.promptTune.estimate.query({ suite_id: tools.suite_id, population_size: 1 }),
      );
      expect(estimate.total_api_calls).toBe(2);
      const tuneEvents = [];
      for await (const event of bench.promptTune({
        suite_id: tools.suite_id,
        target_models: ["crowd/m"],
        meta_model: "crowd/meta",
        config: { population_size: 1 },
      }))
        tuneEvents.push(event);
      expect(tuneEvents.at(-1)).toMatchObject({
        type: "tune_complete",
        best_prompt: "Use the tools.",
        best_score: 1,
      });

      // A temperature tune: every combination streamed, the best named, the stored tune ranked.
      const paramEvents = [];
      for await (const event of bench.paramTune({
        suite_id: tools.suite_id,
        models: ["crowd/m"],
        search_space: { temperature: { min: 0, max: 1, step: 0.5 } },
      }))
        paramEvents.push(event);
      expect(paramEvents.filter((e) => e.type === "combo_result").map((e) => e.config)).toEqual([
        { temperature: 0 },
        { temperature: 0.5 },
        { temperature: 1 },
      ]);
      const done = paramEvents.at(-1)!;
      expect(done).toMatchObject({ type: "tune_complete", best_config: { temperature: 0 }, best_score: 1 });
      const stored = await bench.call((c) =>
        c.bench.paramTune.get.query({ tune_id: (done as { tune_id: string }).tune_id }),
      );
      expect(stored.results).toHaveLength(3);
      expect(stored.status).toBe("completed");
    } finally {
      await standin.close();
    }
  });
});
