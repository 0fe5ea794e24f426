/**
 * Tool suites and cases over real HTTP: CRUD in upstream's shapes, single and bulk cases, multi-turn settings
 * with their defaults, "no call expected", lists of acceptable tools, 422 naming the field, another user's
 * suite is 404, and the JSON import of the documented example file.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { registerUser, request, type SignedInUser } from "./helpers.js";

let t: TestServer;
let user: SignedInUser;
let other: SignedInUser;

const weather = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};
const search = { type: "function", function: { name: "search_contacts", parameters: { type: "object" } } };

beforeAll(async () => {
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback" } });
  user = await registerUser(t);
  other = await registerUser(t);
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const as = (who: SignedInUser) => ({
  get: (path: string) => request(t, "GET", path, { token: who.token }),
  post: (path: string, body: unknown) => request(t, "POST", path, { token: who.token, body }),
  put: (path: string, body: unknown) => request(t, "PUT", path, { token: who.token, body }),
  del: (path: string) => request(t, "DELETE", path, { token: who.token }),
});

describe("tool suites", () => {
  it("creates, lists with counts, reads with tools parsed, updates and deletes a suite", async () => {
    const me = as(user);
    const created = await me.post("/api/tool-suites", {
      name: "Weather",
      description: "d",
      tools: [weather],
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ status: "ok", suite_id: expect.any(String) });
    const id = created.body.suite_id;

    const list = await me.get("/api/tool-suites");
    const listed = list.body.suites.find((s: any) => s.id === id);
    expect(listed).toMatchObject({
      user_id: user.id,
      name: "Weather",
      description: "d",
      tool_count: 1,
      test_case_count: 0,
    });
    expect(JSON.parse(listed.tools_json)).toEqual([weather]);

    expect(
      (await me.put(`/api/tool-suites/${id}`, { name: "Weather 2", tools: [weather, search] })).body,
    ).toEqual({
      status: "ok",
    });
    const got = await me.get(`/api/tool-suites/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      id,
      name: "Weather 2",
      tool_count: 2,
      tools: [weather, search],
      test_cases: [],
    });
    expect(got.body.tools_json).toBeUndefined();

    expect((await me.del(`/api/tool-suites/${id}`)).body).toEqual({ status: "ok" });
    expect((await me.get(`/api/tool-suites/${id}`)).status).toBe(404);
  });

  it("refuses bad suites with 422 naming the field", async () => {
    const me = as(user);
    const noName = await me.post("/api/tool-suites", { name: "  ", tools: [] });
    expect(noName.status).toBe(422);
    expect(noName.body.detail[0].loc).toEqual(["body", "name"]);
    const badType = await me.post("/api/tool-suites", {
      name: "x",
      tools: [{ type: "retrieval", function: { name: "a" } }],
    });
    expect(badType.status).toBe(422);
    expect(badType.body.detail[0].loc).toEqual(["body", "tools", 0, "type"]);
    const noFnName = await me.post("/api/tool-suites", {
      name: "x",
      tools: [{ type: "function", function: {} }],
    });
    expect(noFnName.status).toBe(422);
    expect(noFnName.body.detail[0].loc).toEqual(["body", "tools", 0, "function", "name"]);
    const duplicate = await me.post("/api/tool-suites", { name: "x", tools: [weather, weather] });
    expect(duplicate.status).toBe(422);
    expect(duplicate.body.detail[0].loc).toEqual(["body", "tools", 1, "function", "name"]);
    expect(duplicate.body.error).toMatch(/duplicate tool name get_weather/);
  });

  it("adds single and bulk cases, multi-turn with defaults, updates and deletes them", async () => {
    const me = as(user);
    const id = (await me.post("/api/tool-suites", { name: "cases", tools: [weather, search] })).body.suite_id;
    const base = `/api/tool-suites/${id}/cases`;

    const one = await me.post(base, {
      prompt: "Weather in Paris?",
      expected_tool: "get_weather",
      expected_params: { city: "Paris" },
    });
    expect(one.body).toEqual({ status: "ok", case_id: expect.any(String) });

    const bulk = await me.post(base, {
      cases: [
        { prompt: "Tell a joke", expected_tool: null },
        { prompt: "Either works", expected_tool: ["get_weather", "search_contacts"] },
        {
          prompt: "Chain",
          expected_tool: "get_weather",
          multi_turn: true,
          valid_prerequisites: ["search_contacts"],
        },
      ],
    });
    expect(bulk.body).toEqual({ status: "ok", created: 3 });

    const cases = (await me.get(base)).body.cases;
    expect(cases.map((c: any) => c.prompt)).toEqual([
      "Weather in Paris?",
      "Tell a joke",
      "Either works",
      "Chain",
    ]);
    expect(cases[0]).toMatchObject({
      suite_id: id,
      expected_tool: "get_weather",
      expected_params: { city: "Paris" },
      param_scoring: "exact",
      multi_turn: false,
      multi_turn_config: null,
    });
    expect(cases[1]).toMatchObject({ expected_tool: null, expected_params: null });
    expect(cases[2].expected_tool).toEqual(["get_weather", "search_contacts"]);
    expect(cases[3]).toMatchObject({
      multi_turn: true,
      max_rounds: 5,
      optimal_hops: 2,
      mock_responses: {},
      valid_prerequisites: ["search_contacts"],
    });
    expect((await me.get(`/api/tool-suites/${id}`)).body.test_cases).toHaveLength(4);
    expect((await me.get("/api/tool-suites")).body.suites.find((s: any) => s.id === id).test_case_count).toBe(
      4,
    );

    // Update: a field at a time; multi_turn false makes it single-turn again.
    const chain = cases[3].id;
    expect(
      (await me.put(`${base}/${chain}`, { optimal_hops: 3, mock_responses: { search_contacts: { id: 7 } } }))
        .status,
    ).toBe(200);
    let updated = (await me.get(base)).body.cases[3];
    expect(updated).toMatchObject({
      multi_turn: true,
      optimal_hops: 3,
      max_rounds: 5,
      mock_responses: { search_contacts: { id: 7 } },
      valid_prerequisites: ["search_contacts"],
    });
    expect((await me.put(`${base}/${chain}`, { multi_turn: false, prompt: "Plain" })).status).toBe(200);
    updated = (await me.get(base)).body.cases[3];
    expect(updated).toMatchObject({
      prompt: "Plain",
      multi_turn: false,
      multi_turn_config: null,
      expected_tool: "get_weather",
    });

    expect((await me.del(`${base}/${cases[1].id}`)).body).toEqual({ status: "ok" });
    expect((await me.del(`${base}/${cases[1].id}`)).status).toBe(404);
    expect((await me.get(base)).body.cases).toHaveLength(3);
  });

  it("refuses bad cases with 422 naming the field, and writes none of a bad batch", async () => {
    const me = as(user);
    const id = (await me.post("/api/tool-suites", { name: "bad cases", tools: [weather] })).body.suite_id;
    const base = `/api/tool-suites/${id}/cases`;
    const noPrompt = await me.post(base, { expected_tool: "get_weather" });
    expect(noPrompt.status).toBe(422);
    expect(noPrompt.body.detail[0].loc).toEqual(["body", "prompt"]);
    const badBatch = await me.post(base, {
      cases: [
        { prompt: "ok", expected_tool: "get_weather" },
        { prompt: "chain", multi_turn: true },
      ],
    });
    expect(badBatch.status).toBe(422);
    expect(badBatch.body.detail[0].loc).toEqual(["body", "cases", 1, "expected_tool"]);
    const badRounds = await me.post(base, {
      prompt: "x",
      expected_tool: "a",
      multi_turn: true,
      max_rounds: 0,
    });
    expect(badRounds.status).toBe(422);
    expect(badRounds.body.detail[0].loc).toEqual(["body", "max_rounds"]);
    expect((await me.get(base)).body.cases).toEqual([]);
  });

  it("keeps users apart: another user's suite and its cases are 404", async () => {
    const id = (await as(user).post("/api/tool-suites", { name: "mine", tools: [weather] })).body.suite_id;
    const caseId = (await as(user).post(`/api/tool-suites/${id}/cases`, { prompt: "p", expected_tool: null }))
      .body.case_id;
    const them = as(other);
    expect((await them.get(`/api/tool-suites/${id}`)).status).toBe(404);
    expect((await them.get(`/api/tool-suites/${id}`)).body.error).toBe("Suite not found");
    expect((await them.put(`/api/tool-suites/${id}`, { name: "taken" })).status).toBe(404);
    expect((await them.post(`/api/tool-suites/${id}/cases`, { prompt: "p" })).status).toBe(404);
    expect((await them.put(`/api/tool-suites/${id}/cases/${caseId}`, { prompt: "q" })).status).toBe(404);
    expect((await them.del(`/api/tool-suites/${id}/cases/${caseId}`)).status).toBe(404);
    expect((await them.del(`/api/tool-suites/${id}`)).status).toBe(404);
    expect((await them.get("/api/tool-suites")).body.suites.some((s: any) => s.id === id)).toBe(false);
    expect((await as(user).get(`/api/tool-suites/${id}`)).body.test_cases).toHaveLength(1);
    expect((await as(user).get("/api/tool-suites/not-a-uuid")).status).toBe(404);
  });

  it("imports the documented example file (docs/bench-tool-suite.example.json)", async () => {
    const example = JSON.parse(readFileSync("docs/bench-tool-suite.example.json", "utf8"));
    const me = as(user);
    const res = await me.post("/api/tool-eval/import", example);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok", suite_id: expect.any(String), test_cases_created: 4 });
    const suite = (await me.get(`/api/tool-suites/${res.body.suite_id}`)).body;
    expect(suite.name).toBe(example.name);
    expect(suite.tools).toEqual(example.tools);
    expect(suite.test_cases.map((c: any) => c.expected_tool)).toEqual([
      "get_weather",
      ["search_contacts", "create_event"],
      null,
      "create_event",
    ]);
    expect(suite.test_cases[3]).toMatchObject({
      multi_turn: true,
      max_rounds: 4,
      optimal_hops: 2,
      valid_prerequisites: ["search_contacts"],
      mock_responses: { search_contacts: { name: "Ada Lovelace", email: "ada@example.com" } },
    });

    const bad = await me.post("/api/tool-eval/import", {
      ...example,
      name: "bad import",
      test_cases: [...example.test_cases, { prompt: "" }],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0].loc).toEqual(["body", "test_cases", 4, "prompt"]);
    expect((await me.get("/api/tool-suites")).body.suites.some((s: any) => s.name === "bad import")).toBe(
      false,
    );
  });
});
