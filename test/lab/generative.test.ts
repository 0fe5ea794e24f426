// Generative sessions and processes through the documented routes, over real HTTP, against the LLM stand-in
// (a real server speaking OpenAI's streamed chat completions and /v1/images/generations): no network.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addStandinProvider, registerUser } from "../bench/helpers.js";
import { type LlmStandin, STANDIN_PNG, startLlmStandin } from "../support/llm-standin.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, waitForJob } from "./helpers.js";

const KEY = "sk-lab-generative-secret-1234";
let t: TestServer;
let standin: LlmStandin;

beforeAll(async () => {
  standin = await startLlmStandin({ apiKey: KEY, behaviour: { outputTokens: 12, tokensPerSecond: 400 } });
  t = await startTestServer();
}, 60_000);

afterAll(async () => {
  await t?.close();
  await standin?.close();
});

const form = (fields: Record<string, string>) =>
  call(t, "/api/v1/generative-process/", {
    method: "POST",
    headers: { authorization: t.dashboardAuth, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });

async function runProcess(sessionId: number, prompt: string) {
  const created = await form({ session_id: String(sessionId), text_0: prompt });
  expect(created.status, created.text).toBe(201);
  expect(created.body).toMatchObject({ session_id: sessionId, status: 0, output: [] });
  expect(created.body.input).toEqual([
    expect.objectContaining({ data: prompt, data_type: "str", is_input: true }),
  ]);
  const job = await call(t, "/api/v1/job/", {
    method: "POST",
    headers: { authorization: t.dashboardAuth, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      job_type: "GenerativeJob",
      kwargs: JSON.stringify({ generative_process_id: created.body.id }),
    }).toString(),
  });
  expect(job.status, job.text).toBe(201);
  return { process: created.body, jobId: job.body.id as string };
}

/** Reads an SSE response to its end: the events in order. */
async function readEvents(path: string) {
  const response = await fetch(`${t.url}${path}`, { headers: { authorization: t.dashboardAuth } });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  const events: { event: string; data: any; at: number }[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    let split: number;
    while ((split = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, split);
      buffer = buffer.slice(split + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data), at: Date.now() });
    }
  }
  return events;
}

describe("generative sessions", () => {
  let textSession: any;

  it("are listed as components: the tasks and one model per task", async () => {
    const { dash } = clients(t);
    const tasks = await dash.get("/api/v1/component/?select_types=GenerativeTask");
    expect(tasks.body.map((c: any) => c.name).sort()).toEqual([
      "TextToImageGenerationTask",
      "TextToTextGenerationTask",
    ]);
    const models = await dash.get("/api/v1/component/?related_component=TextToTextGenerationTask");
    expect(models.body.map((c: any) => c.name)).toEqual(["OpenAICompatibleChatModel"]);
    expect(models.body[0].schema.properties.base_url).toBeDefined();
  });

  it("create stores the key sealed: never returned, not in the history, not in the database in clear", async () => {
    const { dash } = clients(t);
    const created = await dash.post("/api/v1/generative-session/", {
      task_name: "TextToTextGenerationTask",
      model_name: "OpenAICompatibleChatModel",
      name: "chat",
      description: "a chat",
      parameters: { base_url: standin.baseUrl, model: "gpt-standin", api_key: KEY, temperature: 0.2 },
    });
    expect(created.status, created.text).toBe(201);
    textSession = created.body;
    expect(created.body).toMatchObject({
      name: "chat",
      task_name: "TextToTextGenerationTask",
      api_key_set: true,
      parameters: { base_url: standin.baseUrl, model: "gpt-standin", temperature: 0.2, max_tokens: 512 },
    });
    expect(created.text).not.toContain(KEY);
    for (const path of [
      `/api/v1/generative-session/${textSession.id}`,
      "/api/v1/generative-session/",
      `/api/v1/generative-session/${textSession.id}/parameters-history`,
    ]) {
      const res = await dash.get(path);
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(KEY);
    }
    const rows = await t.shared.db.prisma.labGenerativeSession.findUnique({ where: { id: textSession.id } });
    expect(JSON.stringify(rows)).not.toContain(KEY);
    expect(rows?.keyCiphertext).toBeTruthy();
  });

  it("refuses bad input with 422 naming the field, 409 on a taken name, 404 on unknown ids, 401 anonymous", async () => {
    const { dash } = clients(t);
    const base = {
      task_name: "TextToTextGenerationTask",
      model_name: "OpenAICompatibleChatModel",
      name: "x",
    };
    const noUrl = await dash.post("/api/v1/generative-session/", { ...base, parameters: { model: "m" } });
    expect(noUrl.status).toBe(422);
    expect(noUrl.text).toContain("base_url");
    const badTemp = await dash.post("/api/v1/generative-session/", {
      ...base,
      parameters: { base_url: standin.baseUrl, model: "m", temperature: 9 },
    });
    expect(badTemp.status).toBe(422);
    expect(badTemp.text).toContain("temperature");
    const wrongTask = await dash.post("/api/v1/generative-session/", {
      ...base,
      task_name: "TextToImageGenerationTask",
      parameters: { base_url: standin.baseUrl, model: "m" },
    });
    expect(wrongTask.status).toBe(422);
    expect(wrongTask.text).toContain("model_name");
    const notGenerative = await dash.post("/api/v1/generative-session/", {
      ...base,
      model_name: "RandomForestClassifier",
    });
    expect(notGenerative.status).toBe(422);
    const taken = await dash.post("/api/v1/generative-session/", {
      ...base,
      name: "chat",
      parameters: { base_url: standin.baseUrl, model: "m" },
    });
    expect(taken.status).toBe(409);
    expect((await dash.get("/api/v1/generative-session/99999")).status).toBe(404);
    expect((await dash.get("/api/v1/generative-process/99999")).status).toBe(404);
    expect((await form({ session_id: "99999", text_0: "hi" })).status).toBe(404);
    const noPrompt = await form({ session_id: String(textSession.id) });
    expect(noPrompt.status).toBe(422);
    expect(noPrompt.text).toContain("text_0");
    expect((await call(t, "/api/v1/generative-session/")).status).toBe(401);
    expect((await call(t, `/api/v1/generative-process/1/stream`)).status).toBe(401);
  });

  it("PATCH (query parameters, as DashAI sends them, or a body) records a parameter snapshot each time", async () => {
    const { dash } = clients(t);
    const renamed = await call(
      t,
      `/api/v1/generative-session/${textSession.id}?name=chat2&description=renamed`,
      { method: "PATCH", headers: { authorization: t.dashboardAuth } },
    );
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({ name: "chat2", description: "renamed", api_key_set: true });
    const tuned = await dash.patch(`/api/v1/generative-session/${textSession.id}`, {
      parameters: { temperature: 0.9, system_prompt: "Be brief." },
    });
    expect(tuned.status, tuned.text).toBe(200);
    expect(tuned.body.parameters).toMatchObject({
      temperature: 0.9,
      system_prompt: "Be brief.",
      model: "gpt-standin",
    });
    const history = await dash.get(`/api/v1/generative-session/${textSession.id}/parameters-history`);
    expect(history.body.map((h: any) => h.parameters.temperature)).toEqual([0.2, 0.2, 0.9]);
    const alias = await dash.get(`/api/v1/generative-session/parameters-history/${textSession.id}`);
    expect(alias.body).toEqual(history.body);
    const bad = await dash.patch(`/api/v1/generative-session/${textSession.id}`, {
      parameters: { max_tokens: 0 },
    });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain("max_tokens");
    expect(
      (await dash.get(`/api/v1/generative-session/${textSession.id}/parameters-history`)).body,
    ).toHaveLength(3);
  });

  it("a process streams its text while produced, stores it, and sends the key to the provider", async () => {
    const { dash } = clients(t);
    standin.configure({ outputTokens: 30, tokensPerSecond: 60 });
    standin.reset();
    const { process, jobId } = await runProcess(textSession.id, "Say something");
    const events = await readEvents(`/api/v1/generative-process/${process.id}/stream`);
    const texts = events.filter((e) => e.event === "text");
    // The text arrived in several pieces over time, not in one piece at the end.
    expect(texts.length).toBeGreaterThan(2);
    expect(texts.at(-1)!.at - texts[0]!.at).toBeGreaterThan(100);
    const done = events.at(-1)!;
    expect(done.event).toBe("done");
    expect(done.data.status).toBe(3);
    const streamed = texts.map((e) => e.data.delta).join("");
    expect(done.data.output[0].data).toBe(streamed);
    expect(streamed.trim().split(/\s+/)).toHaveLength(30);
    expect((await waitForJob(t, jobId)).status).toBe("finished");
    const stored = await dash.get(`/api/v1/generative-process/${process.id}`);
    expect(stored.body).toMatchObject({ status: 3, error: null, session_id: textSession.id });
    expect(stored.body.output).toEqual([
      expect.objectContaining({ data: streamed, data_type: "str", is_input: false }),
    ]);
    const results = await dash.get(`/api/v1/generative-process/${process.id}/results`);
    expect(results.status).toBe(200);
    expect(results.body.output[0].data).toBe(streamed);
    const sent = standin.requests.find((r) => r.path === "/v1/chat/completions")!;
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.body).toMatchObject({ model: "gpt-standin", stream: true, temperature: 0.9 });
    expect(sent.body!.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Say something" },
    ]);

    // The next turn carries the earlier exchange as context (a chat).
    standin.reset();
    const second = await runProcess(textSession.id, "And again");
    expect((await waitForJob(t, second.jobId)).status).toBe("finished");
    const next = standin.requests.find((r) => r.path === "/v1/chat/completions")!;
    expect(next.body!.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Say something" },
      { role: "assistant", content: streamed },
      { role: "user", content: "And again" },
    ]);
    const listed = await dash.get(`/api/v1/generative-process/session/${textSession.id}`);
    expect(listed.body.map((p: any) => p.id)).toEqual([process.id, second.process.id]);
  });

  it("a provider error ends the process in ERROR with the message, the key scrubbed; results answer 422", async () => {
    const { dash } = clients(t);
    standin.configure({ error: { status: 429, message: "rate limited" }, echoKeyInErrors: true });
    try {
      const { process, jobId } = await runProcess(textSession.id, "fail please");
      const job = await waitForJob(t, jobId);
      expect(job.status).toBe("error");
      const stored = await dash.get(`/api/v1/generative-process/${process.id}`);
      expect(stored.body.status).toBe(4);
      expect(stored.body.error).toContain("429");
      expect(stored.body.error).toContain("rate limited");
      expect(stored.text).not.toContain(KEY);
      const results = await dash.get(`/api/v1/generative-process/${process.id}/results`);
      expect(results.status).toBe(422);
      expect(results.text).toContain("rate limited");
    } finally {
      standin.configure({ error: null, echoKeyInErrors: false });
    }
  });

  it("text-to-image: images from /v1/images/generations are stored and served as PNG", async () => {
    const { dash } = clients(t);
    const session = await dash.post("/api/v1/generative-session/", {
      task_name: "TextToImageGenerationTask",
      model_name: "OpenAICompatibleImageModel",
      name: "pictures",
      parameters: { base_url: standin.baseUrl, model: "img-standin", api_key: KEY, n: 2, size: "256x256" },
    });
    expect(session.status, session.text).toBe(201);
    standin.reset();
    const { process, jobId } = await runProcess(session.body.id, "a red square");
    expect((await waitForJob(t, jobId)).status).toBe("finished");
    const results = await dash.get(`/api/v1/generative-process/${process.id}/results`);
    expect(results.body.output).toHaveLength(2);
    for (const image of results.body.output) {
      expect(image.data_type).toBe("Image");
      const res = await fetch(`${t.url}/api/v1/generative-process/image/${image.data}`, {
        headers: { authorization: t.dashboardAuth },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
      expect(Buffer.from(await res.arrayBuffer())).toEqual(STANDIN_PNG);
    }
    expect(standin.requests.find((r) => r.path === "/v1/images/generations")!.body).toMatchObject({
      model: "img-standin",
      prompt: "a red square",
      n: 2,
      size: "256x256",
    });
    expect((await dash.get("/api/v1/generative-process/image/..%2F..%2Fetc%2Fpasswd")).status).toBe(404);
    expect((await call(t, `/api/v1/generative-process/image/${results.body.output[0].data}`)).status).toBe(
      401,
    );

    // Deleting the session removes its processes and their images.
    expect((await dash.del(`/api/v1/generative-session/${session.body.id}`)).status).toBe(204);
    expect((await dash.get(`/api/v1/generative-process/${process.id}`)).status).toBe(404);
    expect((await dash.get(`/api/v1/generative-process/image/${results.body.output[0].data}`)).status).toBe(
      404,
    );
  });

  it("a session can use a bench user's provider model (its key from bench's store), run=true queues at once", async () => {
    const { dash } = clients(t);
    const user = await registerUser(t);
    await addStandinProvider(t, user, standin, ["bench-model"]);
    const keySet = await call(t, "/api/keys", {
      method: "PUT",
      headers: { authorization: `Bearer ${user.token}`, "content-type": "application/json" },
      body: JSON.stringify({ provider_key: "local", value: KEY }),
    });
    expect(keySet.status, keySet.text).toBe(200);
    const session = await dash.post("/api/v1/generative-session/", {
      task_name: "TextToTextGenerationTask",
      model_name: "OpenAICompatibleChatModel",
      name: "via-bench",
      parameters: { bench_user: user.email, bench_model: "local/bench-model" },
    });
    expect(session.status, session.text).toBe(201);
    expect(session.body.api_key_set).toBe(false);
    standin.reset();
    const created = await form({ session_id: String(session.body.id), text_0: "hello", run: "true" });
    expect(created.status, created.text).toBe(201);
    expect(created.body.job_id).toEqual(expect.any(String));
    expect((await waitForJob(t, created.body.job_id)).status).toBe("finished");
    const sent = standin.requests.find((r) => r.path === "/v1/chat/completions")!;
    expect(sent.body!.model).toBe("bench-model");
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    const again = await call(t, "/api/v1/job/", {
      method: "POST",
      headers: { authorization: t.dashboardAuth, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        job_type: "GenerativeJob",
        kwargs: JSON.stringify({ generative_process_id: 99999 }),
      }).toString(),
    });
    expect(again.status).toBe(404);
    const bulk = await call(t, "/api/v1/generative-session/", {
      method: "DELETE",
      headers: { authorization: t.dashboardAuth, "content-type": "application/json" },
      body: JSON.stringify({ ids: [session.body.id, 99999] }),
    });
    expect(bulk.status).toBe(204);
    expect((await dash.get(`/api/v1/generative-session/${session.body.id}`)).status).toBe(404);
  });
});
