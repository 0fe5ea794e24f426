import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { answersFor, configure, gtOf, seed, type Seeded, visitor } from "./challenge-helpers.js";
import { call, clients, createDataset, createKey, send } from "./helpers.js";

let t: TestServer;
let main: Seeded;
beforeAll(async () => {
  t = await startTestServer();
  await configure(t);
  main = await seed(t, { gt: 20, unknown: 30 });
});
afterAll(async () => {
  await t?.close();
});

const prisma = () => t.server.deps.db.prisma;
const ITEM_KEYS = ["challenge_type", "choices", "data_ref", "grid", "id", "modality", "prompt", "slot"];

describe("generate: the degradation ladder", () => {
  it("tier 1: one ground-truth item and one unlabeled item, in the documented shape", async () => {
    const res = await visitor(t, main.key).generate();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      challenge_id: expect.stringMatching(/^chal_[A-Za-z0-9_-]{22}$/),
      items: [expect.any(Object), expect.any(Object)],
      expires_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    const expiresIn = Date.parse(res.body.expires_at) - Date.now();
    expect(expiresIn).toBeGreaterThan(290_000);
    expect(expiresIn).toBeLessThanOrEqual(300_000);
    const [a, b] = res.body.items;
    expect([a.slot, b.slot]).toEqual(["a", "b"]);
    for (const item of res.body.items) {
      // Same fields, same kinds of values: nothing tells the ground-truth item apart.
      expect(Object.keys(item).sort()).toEqual(ITEM_KEYS);
      expect(item).toMatchObject({
        id: expect.stringMatching(/^itm_[A-Za-z0-9_-]{22}$/),
        modality: "image",
        prompt: "Does this contain a cat?",
        challenge_type: "image",
        choices: ["yes", "no"],
        grid: null,
      });
    }
    const refs = res.body.items.map((item: any) => item.data_ref);
    expect(refs.filter((ref: string) => main.gt.has(ref))).toHaveLength(1);
    expect(refs.filter((ref: string) => main.unknownRefs.includes(ref))).toHaveLength(1);
    // Opaque ids: not the database ids of the items.
    const dbIds = (await prisma().item.findMany({ where: { dataRef: { in: refs } } })).map((row) => row.id);
    for (const item of res.body.items) expect(dbIds).not.toContain(item.id);
  });

  it("tier 3: a single ground-truth item when nothing is left to label or re-validate", async () => {
    const onlyGt = await seed(t, { gt: 3 });
    const scoped = await createKey(t, { label: "gt only", datasets: [onlyGt.datasetId] });
    const res = await visitor(t, scoped.raw_key).generate();
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
    expect(onlyGt.gt.has(res.body.items[0].data_ref)).toBe(true);
    const v = visitor(t, scoped.raw_key);
    const c = (await v.generate()).body;
    const passed = await v.submit(answersFor(c, onlyGt));
    expect(passed.body).toEqual({ passed: true, token: expect.any(String) });
  });

  it("tier 4: 204 with X-HiveGuard-Bypass: no-gt-pool, or 503 when fail_mode is closed", async () => {
    const empty = await createDataset(t, { name: "empty", modality: "image" });
    const scoped = await createKey(t, { label: "empty scope", datasets: [empty.id] });
    const res = await visitor(t, scoped.raw_key).generate();
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect(res.headers.get("x-hiveguard-bypass")).toBe("no-gt-pool");

    await configure(t, { fail_mode: "closed" });
    try {
      const closed = await visitor(t, scoped.raw_key).generate("image", "path");
      expect(closed.status).toBe(503);
      expect(closed.body).toEqual({ detail: "Challenge pool empty" });
    } finally {
      await configure(t, { fail_mode: "open" });
    }
  });

  it("tier 4 also when the only items are unlabeled (no ground truth to check a human with)", async () => {
    const noGt = await seed(t, { unknown: 5 });
    const scoped = await createKey(t, { label: "no gt", datasets: [noGt.datasetId] });
    const res = await visitor(t, scoped.raw_key).generate();
    expect(res.status).toBe(204);
    expect(res.headers.get("x-hiveguard-bypass")).toBe("no-gt-pool");
  });

  it("tier 2: a ground-truth item with an item in re-validation once every item is labeled", async () => {
    const small = await seed(t, { gt: 4, unknown: 1 });
    const scoped = (await createKey(t, { label: "tier2", datasets: [small.datasetId] })).raw_key;
    // Three visitors agree on the only unknown item: consensus (3 votes, share 1.0) finalizes its label.
    for (let i = 0; i < 3; i++) {
      const v = visitor(t, scoped);
      const c = (await v.generate()).body;
      expect(c.items).toHaveLength(2);
      expect((await v.submit(answersFor(c, small))).body.passed).toBe(true);
    }
    const item = await prisma().item.findFirstOrThrow({ where: { dataRef: small.unknownRefs[0] } });
    expect(item.state).toBe("revalidating");
    const auditor = visitor(t, scoped);
    const res = await auditor.generate();
    expect(res.body.items).toHaveLength(2);
    expect(res.body.items.map((i: any) => i.data_ref)).toContain(small.unknownRefs[0]);
    // The session row is written when the challenge is answered.
    expect(
      await prisma().challengeSession.findUnique({ where: { challengeId: res.body.challenge_id } }),
    ).toBeNull();
    expect((await auditor.submit(answersFor(res.body, small))).body.passed).toBe(true);
    const session = await prisma().challengeSession.findUniqueOrThrow({
      where: { challengeId: res.body.challenge_id },
    });
    expect(session).toMatchObject({ tier: 2, outcome: "passed" });
  });

  it("falls back to a modality that has items, via the query or the path", async () => {
    const text = await seed(t, { gt: 2, unknown: 2, modality: "text" });
    const scoped = (await createKey(t, { label: "text", datasets: [text.datasetId] })).raw_key;
    for (const via of ["query", "path"] as const) {
      const res = await visitor(t, scoped).generate("audio", via);
      expect(res.status).toBe(200);
      expect(res.body.items.map((i: any) => i.modality)).toEqual(["text", "text"]);
    }
    // The requested modality wins when it has ground truth.
    const mixed = await createKey(t, { label: "mixed", datasets: [text.datasetId, main.datasetId] });
    for (let i = 0; i < 5; i++) {
      const res = await visitor(t, mixed.raw_key).generate("image", "path");
      expect(res.body.items[0].modality).toBe("image");
    }
  });

  it("refuses an unknown modality with 422 naming it", async () => {
    const q = await visitor(t, main.key).generate("video");
    expect(q.status).toBe(422);
    expect(q.body.detail[0].loc).toEqual(["query", "modality"]);
    const p = await visitor(t, main.key).generate("video", "path");
    expect(p.status).toBe(422);
    expect(p.body.detail[0].loc).toEqual(["path", "modality"]);
  });

  it("needs an API key (401)", async () => {
    const res = await call(t, "/api/v1/challenge/generate");
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: "Invalid or missing API key" });
  });

  it("never serves the same unknown item twice to a client, and spreads votes over the least voted", async () => {
    const pool = await seed(t, { gt: 5, unknown: 6 });
    const scoped = (await createKey(t, { label: "spread", datasets: [pool.datasetId] })).raw_key;
    const v = visitor(t, scoped);
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const c = (await v.generate()).body;
      seen.push(c.items.find((item: any) => !pool.gt.has(item.data_ref)).data_ref);
    }
    expect(new Set(seen).size).toBe(6);
    // Every unknown item shown once: what is left for this client is ground truth alone.
    expect((await v.generate()).body.items).toHaveLength(1);

    // Six other visitors, one after the other, each answer: the least-voted item is always picked,
    // so each item gets exactly one vote.
    for (let i = 0; i < 6; i++) {
      const other = visitor(t, scoped);
      const c = (await other.generate()).body;
      expect((await other.submit(answersFor(c, pool))).body.passed).toBe(true);
    }
    const items = await prisma().item.findMany({ where: { datasetId: pool.datasetId, isGt: false } });
    expect(items.map((item) => item.voteCount)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it("puts the ground-truth item first or second at random (uniform position)", async () => {
    const v = visitor(t, main.key);
    const n = 400;
    let first = 0;
    for (let i = 0; i < n; i++) {
      const c = (await visitor(t, main.key, `${v.userAgent}-${i}`).generate()).body;
      if (main.gt.has(c.items[0].data_ref)) first++;
    }
    // Binomial(400, 0.5): mean 200, sd 10. A fixed or biased position falls far outside ±4 sd.
    expect(first).toBeGreaterThan(160);
    expect(first).toBeLessThan(240);
  });

  it("grid challenges: a grid of cells, answers are index lists in any order", async () => {
    const grid = await seed(t, { gt: 2, unknown: 2, challengeType: "grid_select" });
    const scoped = (await createKey(t, { label: "grid", datasets: [grid.datasetId] })).raw_key;
    const v = visitor(t, scoped);
    const c = (await v.generate()).body;
    for (const item of c.items) {
      expect(item).toMatchObject({ challenge_type: "grid_select", choices: [], grid: { rows: 3, cols: 3 } });
    }
    const gt = gtOf(c, grid);
    const known = grid.gt.get(gt.data_ref) as number[];
    const body = {
      challenge_id: c.challenge_id,
      responses: c.items.map((item: any) => ({
        item_id: item.id,
        answer: item === gt ? [...known].reverse().concat(known[0]!) : [8, 2],
      })),
    };
    const res = await v.submit(body);
    expect(res.body.passed).toBe(true);
    const vote = await prisma().vote.findFirstOrThrow({
      where: { sessionId: { not: null }, item: { datasetId: grid.datasetId } },
    });
    expect(vote.answer).toBe("[2,8]");
  });
});

describe("sample_rate", () => {
  it("0 never challenges (204 sampled); 0.5 challenges about half the calls", async () => {
    const never = await createKey(t, { label: "never", sample_rate: 0 });
    const res = await visitor(t, never.raw_key).generate();
    expect(res.status).toBe(204);
    expect(res.headers.get("x-hiveguard-bypass")).toBe("sampled");

    const half = await createKey(t, { label: "half", sample_rate: 0.5 });
    const v = visitor(t, half.raw_key);
    let served = 0;
    for (let i = 0; i < 200; i++) if ((await v.generate()).status === 200) served++;
    // Binomial(200, 0.5): sd ≈ 7.1; ±4.5 sd.
    expect(served).toBeGreaterThan(68);
    expect(served).toBeLessThan(132);
  });
});

describe("submit", () => {
  it("right ground truth: passed with a token bound to the client, one vote recorded, session updated", async () => {
    const v = visitor(t, main.key);
    const c = (await v.generate()).body;
    const unknown = c.items.find((item: any) => !main.gt.has(item.data_ref));
    const before = await prisma().vote.count();
    const res = await v.submit(answersFor(c, main, { unknownAnswer: "no", by: "slot" }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ passed: true, token: expect.stringMatching(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/) });
    expect(await prisma().vote.count()).toBe(before + 1);
    const vote = await prisma().vote.findFirstOrThrow({
      where: { item: { dataRef: unknown.data_ref } },
      orderBy: { createdAt: "desc" },
    });
    expect(vote.answer).toBe("no");

    const tokens = t.server.deps.services.challenges.tokens;
    expect(
      (await tokens.verifyToken(res.body.token, { ip: "127.0.0.1", userAgent: v.userAgent })).valid,
    ).toBe(true);
    expect(
      await tokens.verifyToken(res.body.token, { ip: "127.0.0.1", userAgent: "another browser" }),
    ).toEqual({
      valid: false,
      reason: "client",
    });

    const session = await prisma().challengeSession.findUniqueOrThrow({
      where: { challengeId: c.challenge_id },
    });
    expect(session).toMatchObject({ outcome: "passed", gtCorrect: true, riskScore: 1, tier: 1 });
    expect(session.features).toMatchObject({
      gt_correct: true,
      time_to_answer_ms: expect.any(Number),
      has_accept_language: expect.any(Boolean),
      ua_automation: false,
      ua_length: v.userAgent.length,
      client_generates_this_minute: 1,
    });
  });

  it("completes a session row that an earlier version wrote at generate (rolling upgrade)", async () => {
    const v = visitor(t, main.key);
    const c = (await v.generate()).body;
    const stored = JSON.parse((await t.server.deps.state.get(`challenge:${c.challenge_id}`))!);
    await prisma().challengeSession.create({
      data: {
        id: stored.sessionId,
        challengeId: c.challenge_id,
        clientHash: stored.client,
        tier: stored.tier,
      },
    });
    expect((await v.submit(answersFor(c, main))).body.passed).toBe(true);
    const session = await prisma().challengeSession.findUniqueOrThrow({
      where: { challengeId: c.challenge_id },
    });
    expect(session).toMatchObject({ outcome: "passed", gtCorrect: true, riskScore: 1 });
    expect(await prisma().vote.count({ where: { sessionId: stored.sessionId } })).toBe(1);
  });

  it("wrong ground truth: failed, no vote, the challenge is spent", async () => {
    const v = visitor(t, main.key);
    const c = (await v.generate()).body;
    const before = await prisma().vote.count();
    const res = await v.submit(answersFor(c, main, { gtWrong: true }));
    expect(res.body).toEqual({ passed: false, token: null });
    expect(await prisma().vote.count()).toBe(before);
    expect((await v.submit(answersFor(c, main))).body).toEqual({ passed: false, token: null });
    const session = await prisma().challengeSession.findUniqueOrThrow({
      where: { challengeId: c.challenge_id },
    });
    expect(session).toMatchObject({ outcome: "failed", gtCorrect: false });
  });

  it("answers are case- and space-insensitive against the dataset's choices", async () => {
    const v = visitor(t, main.key);
    const c = (await v.generate()).body;
    const body = answersFor(c, main);
    body.responses = body.responses.map((r: any) => ({
      ...r,
      answer: `  ${String(r.answer).toUpperCase()} `,
    }));
    expect((await v.submit(body)).body.passed).toBe(true);
  });

  it("a replay fails: a challenge is answered once", async () => {
    const v = visitor(t, main.key);
    const c = (await v.generate()).body;
    expect((await v.submit(answersFor(c, main))).body.passed).toBe(true);
    expect((await v.submit(answersFor(c, main))).body).toEqual({ passed: false, token: null });
  });

  it("unknown challenge ids fail with 200 {passed:false}", async () => {
    const res = await visitor(t, main.key).submit({
      challenge_id: "chal_doesnotexist",
      responses: [{ item_id: "a", answer: "yes" }],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ passed: false, token: null });
  });

  it("another client (or key) cannot use a challenge, nor spend it", async () => {
    const owner = visitor(t, main.key);
    const c = (await owner.generate()).body;
    expect((await visitor(t, main.key).submit(answersFor(c, main))).body.passed).toBe(false);
    const otherKey = (await createKey(t, { label: "other" })).raw_key;
    expect((await visitor(t, otherKey, owner.userAgent).submit(answersFor(c, main))).body.passed).toBe(false);
    expect((await owner.submit(answersFor(c, main))).body.passed).toBe(true);
  });

  it("422 naming the field for bad shapes; the challenge stays usable", async () => {
    const v = visitor(t, main.key);
    const c = (await v.generate()).body;
    const good = answersFor(c, main);
    const cases: [unknown, (string | number)[]][] = [
      [{ responses: good.responses }, ["body", "challenge_id"]],
      [{ challenge_id: c.challenge_id }, ["body", "responses"]],
      [{ challenge_id: c.challenge_id, responses: [] }, ["body", "responses"]],
      [{ challenge_id: 5, responses: good.responses }, ["body", "challenge_id"]],
      [{ ...good, extra: 1 }, ["body"]],
      [{ challenge_id: c.challenge_id, responses: [{ item_id: "a" }] }, ["body", "responses", 0, "answer"]],
      [
        { challenge_id: c.challenge_id, responses: [{ item_id: "a", answer: { x: 1 } }] },
        ["body", "responses", 0, "answer"],
      ],
      [{ challenge_id: c.challenge_id, responses: [{ answer: "yes" }] }, ["body", "responses", 0, "item_id"]],
      [
        { challenge_id: c.challenge_id, responses: [{ item_id: "zzz", answer: "yes" }, good.responses[1]] },
        ["body", "responses", 0, "item_id"],
      ],
      [
        {
          challenge_id: c.challenge_id,
          responses: [{ ...good.responses[0], answer: "maybe" }, good.responses[1]],
        },
        ["body", "responses", 0, "answer"],
      ],
      [
        {
          challenge_id: c.challenge_id,
          responses: [{ ...good.responses[0], answer: [1] }, good.responses[1]],
        },
        ["body", "responses", 0, "answer"],
      ],
      [{ challenge_id: c.challenge_id, responses: [good.responses[0]] }, ["body", "responses"]],
      [
        { challenge_id: c.challenge_id, responses: [good.responses[0], good.responses[0]] },
        ["body", "responses", 1, "item_id"],
      ],
    ];
    for (const [body, loc] of cases) {
      const res = await v.submit(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.detail.map((d: any) => d.loc)).toContainEqual(loc);
    }
    const notJson = await call(
      t,
      "/api/v1/challenge/submit",
      send("POST", "{oops", { "x-hiveguard-key": main.key }),
    );
    expect(notJson.status).toBe(422);
    expect((await v.submit(good)).body.passed).toBe(true);
  });

  it("an expired challenge fails", async () => {
    await configure(t, { challenge_lifetime: 2 });
    try {
      const v = visitor(t, main.key);
      const c = (await v.generate()).body;
      expect(Date.parse(c.expires_at) - Date.now()).toBeLessThanOrEqual(2000);
      await new Promise((resolve) => setTimeout(resolve, 2300));
      expect((await v.submit(answersFor(c, main))).body).toEqual({ passed: false, token: null });
    } finally {
      await configure(t, { challenge_lifetime: 300 });
    }
  });

  it("counts served, passed and failed challenges in the dashboard metrics", async () => {
    const before = (await clients(t).dash.get("/dashboard/api/metrics")).body;
    const v = visitor(t, main.key);
    const c1 = (await v.generate()).body;
    const c2 = (await v.generate()).body;
    await v.submit(answersFor(c1, main));
    await v.submit(answersFor(c2, main, { gtWrong: true }));
    const after = (await clients(t).dash.get("/dashboard/api/metrics")).body;
    expect(after.total_challenges - before.total_challenges).toBe(2);
    expect(after.challenges_passed - before.challenges_passed).toBe(1);
    expect(after.challenges_failed - before.challenges_failed).toBe(1);
  });

  it("a made-up, foreign or already answered challenge_id is an invalid submit, not a failed challenge", async () => {
    const before = (await clients(t).dash.get("/dashboard/api/metrics")).body;
    const v = visitor(t, main.key);
    const stranger = visitor(t, main.key);
    const c = (await v.generate()).body;
    const body = answersFor(c, main);
    for (let i = 0; i < 5; i++) {
      const forged = { ...body, challenge_id: `chal_${"x".repeat(20)}${i}` };
      expect((await v.submit(forged)).body).toEqual({ passed: false, token: null });
    }
    expect((await stranger.submit(body)).body).toEqual({ passed: false, token: null });
    expect((await v.submit(body)).body.passed).toBe(true);
    expect((await v.submit(body)).body).toEqual({ passed: false, token: null });
    const after = (await clients(t).dash.get("/dashboard/api/metrics")).body;
    expect(after.total_challenges - before.total_challenges).toBe(1);
    expect(after.challenges_passed - before.challenges_passed).toBe(1);
    expect(after.challenges_failed - before.challenges_failed).toBe(0);
    expect(after.invalid_submits - before.invalid_submits).toBe(7);
    expect(after.solve_rate_pct).toBeGreaterThanOrEqual(before.solve_rate_pct);
  });
});

describe("two instances on one database and state store", () => {
  it("a concurrent double submit of one challenge passes exactly once", async () => {
    const second = await startTestServer({ sharedWith: t });
    try {
      for (let round = 0; round < 5; round++) {
        const v = visitor(t, main.key);
        const c = (await v.generate()).body;
        const body = answersFor(c, main);
        const results = await Promise.all([
          v.submit(body, t),
          v.submit(body, second),
          v.submit(body, t),
          v.submit(body, second),
        ]);
        expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
        expect(results.filter((r) => r.body.passed)).toHaveLength(1);
        const votes = await prisma().vote.count({ where: { session: { challengeId: c.challenge_id } } });
        expect(votes).toBe(1);
      }
    } finally {
      await second.close();
    }
  });
});

describe("rate limits", () => {
  it("429 with Retry-After and a detail once an IP spends its generate budget; submit has its own", async () => {
    await configure(t, { challenge_rate_limit_ip: 3 });
    try {
      const v = visitor(t, main.key);
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 4; i++) {
        last = await v.generate();
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(Number(last!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(Number(last!.headers.get("retry-after"))).toBeLessThanOrEqual(60);
      expect(last!.body).toEqual({ detail: expect.stringContaining("Too many challenge generate requests") });
      // Submits are counted separately.
      const s = await v.submit({ challenge_id: "chal_x", responses: [{ item_id: "a", answer: "yes" }] });
      expect(s.status).toBe(200);
    } finally {
      await configure(t);
    }
  });

  it("per API key too", async () => {
    await configure(t, { challenge_rate_limit_key: 2 });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await visitor(t, main.key).generate()).status);
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await configure(t);
    }
  });
});
