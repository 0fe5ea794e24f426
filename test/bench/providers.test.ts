/**
 * Bench configuration through real HTTP: /api/config in upstream's shape, provider and model CRUD (DELETE
 * with a JSON body), prompt templates, model discovery against a local server speaking OpenAI's /v1/models,
 * per-user keys encrypted at rest and never returned, admin env keys (masked), the parameter registry and
 * validation, provider health, and the resolution bench-runner uses.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/platform/logger.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { registerUser, request, type SignedInUser } from "./helpers.js";

let t: TestServer;
let admin: SignedInUser;
let user: SignedInUser;
let models: Server;
let modelsUrl: string;
const seenAuth: (string | undefined)[] = [];
const SECRET = "sk-test-0123456789abcdefXYZW";
const GLOBAL_SECRET = "sk-global-secret-9876";
/** Everything the server logs, at trace level. */
const logged: string[] = [];

beforeAll(async () => {
  models = createServer((req, res) => {
    seenAuth.push(req.headers.authorization);
    if (req.url === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          object: "list",
          data: [
            { id: "llama3:8b", object: "model", owned_by: "me" },
            { id: "qwen2.5:7b", object: "model" },
          ],
        }),
      );
    } else if (req.url === "/broken/models") {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${SECRET}` } }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => models.listen(0, "127.0.0.1", resolve));
  modelsUrl = `http://127.0.0.1:${(models.address() as AddressInfo).port}`;
  t = await startTestServer({
    env: { TRUSTED_PROXIES: "loopback" },
    log: createLogger("trace", { destination: { write: (line: string) => void logged.push(line) } }),
  });
  admin = await registerUser(t, "admin@example.com");
  user = await registerUser(t, "user@example.com");
}, 60_000);
afterAll(async () => {
  await t?.close();
  models?.close();
});

describe("config", () => {
  it("seeds a new user with OpenAI, Anthropic and Gemini, keyed by display name, with prefixed model ids", async () => {
    const res = await request(t, "GET", "/api/config", { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body.defaults).toEqual({
      max_tokens: 512,
      temperature: 0.7,
      context_tiers: [0],
      prompt: expect.any(String),
      request_timeout_s: 120,
    });
    expect(Object.keys(res.body.providers)).toEqual(["OpenAI", "Anthropic", "Google Gemini"]);
    const anthropic = res.body.providers.Anthropic;
    expect(anthropic).toMatchObject({
      provider_key: "anthropic",
      model_id_prefix: "anthropic",
      api_key: "",
      api_key_env: "ANTHROPIC_API_KEY",
    });
    expect(anthropic.models[0]).toMatchObject({
      model_id: "anthropic/claude-sonnet-4-5",
      context_window: 200000,
      skip_params: [],
    });
  });

  it("adds, updates and deletes providers and models (DELETE with a JSON body), prefixing model ids", async () => {
    const add = await request(t, "POST", "/api/config/provider", {
      token: user.token,
      body: {
        provider_key: "local",
        display_name: "Local LLM",
        api_base: `${modelsUrl}/v1`,
        model_id_prefix: "local",
      },
    });
    expect(add.body).toEqual({ status: "ok", provider_key: "local" });
    const again = await request(t, "POST", "/api/config/provider", {
      token: user.token,
      body: { provider_key: "local" },
    });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe("Provider 'local' already exists");

    const model = await request(t, "POST", "/api/config/model", {
      token: user.token,
      body: { provider_key: "local", id: "llama3:8b", display_name: "Llama 3", context_window: 8192 },
    });
    expect(model.body).toEqual({ status: "ok", model_id: "local/llama3:8b" });
    const already = await request(t, "POST", "/api/config/model", {
      token: user.token,
      body: { provider_key: "local", id: "local/llama3:8b" },
    });
    expect(already.status).toBe(409);
    const unknown = await request(t, "POST", "/api/config/model", {
      token: user.token,
      body: { provider_key: "nope", id: "x" },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe("Provider not found");

    const update = await request(t, "PUT", "/api/config/model", {
      token: user.token,
      body: {
        model_id: "local/llama3:8b",
        skip_params: ["temperature"],
        max_output_tokens: 2048,
        custom_fields: { quant: "q4" },
        input_cost_per_mtok: 0.1,
      },
    });
    expect(update.body).toEqual({ status: "ok", model_id: "local/llama3:8b" });
    const renamed = await request(t, "PUT", "/api/config/provider", {
      token: user.token,
      body: { provider_key: "local", display_name: "My Box", timeout_s: 300 },
    });
    expect(renamed.body).toEqual({ status: "ok" });
    const badTimeout = await request(t, "PUT", "/api/config/provider", {
      token: user.token,
      body: { provider_key: "local", timeout_s: 5 },
    });
    expect(badTimeout.status).toBe(422);
    expect(badTimeout.body.detail[0].loc).toEqual(["body", "timeout_s"]);

    const config = await request(t, "GET", "/api/config", { token: user.token });
    expect(config.body.providers["My Box"]).toMatchObject({
      provider_key: "local",
      kind: "openai_compatible",
      timeout_s: 300,
    });
    expect(config.body.providers["My Box"].models).toEqual([
      {
        model_id: "local/llama3:8b",
        display_name: "Llama 3",
        context_window: 8192,
        max_output_tokens: 2048,
        skip_params: ["temperature"],
        input_cost_per_mtok: 0.1,
        output_cost_per_mtok: null,
        quant: "q4",
      },
    ]);

    const del = await request(t, "DELETE", "/api/config/model", {
      token: user.token,
      body: { provider_key: "local", model_id: "local/llama3:8b" },
    });
    expect(del.body).toEqual({ status: "ok" });
    const gone = await request(t, "DELETE", "/api/config/model", {
      token: user.token,
      body: { provider_key: "local", model_id: "local/llama3:8b" },
    });
    expect(gone.status).toBe(404);
    // The other user sees none of it.
    const others = await request(t, "GET", "/api/config", { token: admin.token });
    expect(Object.keys(others.body.providers)).not.toContain("My Box");
  });

  it("keeps prompt templates as an object keyed by template key", async () => {
    const save = await request(t, "POST", "/api/config/prompts", {
      token: user.token,
      body: { key: "haiku", label: "Haiku", prompt: "Write a haiku" },
    });
    expect(save.body).toEqual({ status: "ok", key: "haiku" });
    const list = await request(t, "GET", "/api/config/prompts", { token: user.token });
    expect(list.body.haiku).toEqual({ category: "general", label: "Haiku", prompt: "Write a haiku" });
    expect(Object.keys(list.body).length).toBe(5);
  });
});

describe("discovery and health", () => {
  it("lists an OpenAI-compatible server's models with the prefix applied, sending the user's key", async () => {
    await request(t, "PUT", "/api/keys", {
      token: user.token,
      body: { provider_key: "local", value: SECRET },
    });
    const res = await request(t, "GET", "/api/models/discover?provider_key=local", { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      models: [
        { id: "local/llama3:8b", display_name: "llama3:8b" },
        { id: "local/qwen2.5:7b", display_name: "qwen2.5:7b" },
      ],
    });
    expect(seenAuth.at(-1)).toBe(`Bearer ${SECRET}`);
    const health = await request(t, "GET", "/api/health/providers", { token: user.token });
    const local = health.body.providers.find((p: { provider_key: string }) => p.provider_key === "local");
    expect(local).toMatchObject({ name: "My Box", status: "ok", latency_ms: expect.any(Number) });
  });

  it("answers 502 {error} when the provider refuses, without echoing the key", async () => {
    await request(t, "PUT", "/api/config/provider", {
      token: user.token,
      body: { provider_key: "local", api_base: `${modelsUrl}/broken` },
    });
    const res = await request(t, "GET", "/api/models/discover?provider_key=local", { token: user.token });
    expect(res.status).toBe(502);
    expect(res.body.error).toBe("Provider answered HTTP 401 (check the API key)");
    expect(res.text).not.toContain(SECRET);
    const down = await request(t, "PUT", "/api/config/provider", {
      token: user.token,
      body: { provider_key: "local", api_base: "http://127.0.0.1:1/v1" },
    });
    expect(down.status).toBe(200);
    const unreachable = await request(t, "GET", "/api/models/discover?provider_key=local", {
      token: user.token,
    });
    expect(unreachable.status).toBe(502);
    expect(unreachable.body.error).toMatch(/^Provider unreachable/);
    await request(t, "PUT", "/api/config/provider", {
      token: user.token,
      body: { provider_key: "local", api_base: `${modelsUrl}/v1` },
    });
  });
});

describe("keys", () => {
  it("stores a user's key encrypted, never returns it, and resolves it for bench-runner", async () => {
    const list = await request(t, "GET", "/api/keys", { token: user.token });
    const local = list.body.keys.find((k: { provider_key: string }) => k.provider_key === "local");
    expect(local).toEqual({
      provider_key: "local",
      display_name: "My Box",
      key_env_name: "",
      has_global_key: false,
      has_user_key: true,
      user_key_updated_at: expect.any(String),
    });
    const row = await t.server.deps.db.prisma.benchProviderKey.findFirstOrThrow({
      where: { providerKey: "local" },
    });
    expect(row.ciphertext).not.toContain(SECRET);
    expect(Buffer.from(row.ciphertext.split(".")[3]!, "base64").toString("latin1")).not.toContain(SECRET);
    expect(row.keyId).toMatch(/^[0-9a-f]{16}$/);
    for (const path of ["/api/keys", "/api/config", "/api/health/providers"]) {
      const res = await request(t, "GET", path, { token: user.token });
      expect({ path, leaked: res.text.includes(SECRET) }).toEqual({ path, leaked: false });
    }
    expect(
      (await request(t, "GET", "/api/config", { token: user.token })).body.providers["My Box"].api_key,
    ).toBe("***");

    await request(t, "POST", "/api/config/model", {
      token: user.token,
      body: { provider_key: "local", id: "llama3:8b", input_cost_per_mtok: 1, output_cost_per_mtok: 2 },
    });
    const resolved = await t.server.deps.services.benchProviders.resolveModels(user.id, [
      "local/llama3:8b",
      "missing/x",
    ]);
    expect(resolved.missing).toEqual(["missing/x"]);
    expect(resolved.resolved).toEqual([
      expect.objectContaining({
        providerKey: "local",
        providerName: "My Box",
        kind: "openai_compatible",
        apiBase: `${modelsUrl}/v1`,
        apiKey: SECRET,
        model: "llama3:8b",
        modelId: "local/llama3:8b",
        timeoutMs: 300_000,
        prices: { inputPerMTok: 1, outputPerMTok: 2 },
      }),
    ]);
    // A ciphertext moved to another user's row does not open (bound to user and provider).
    const adminRow = await t.server.deps.db.prisma.benchProviderKey.create({
      data: { userId: admin.id, providerKey: "openai", ciphertext: row.ciphertext, keyId: row.keyId },
    });
    const stolen = await t.server.deps.services.benchProviders.resolveModel(admin.id, "gpt-4o");
    expect(stolen.apiKey).toBeNull();
    await t.server.deps.db.prisma.benchProviderKey.delete({ where: { id: adminRow.id } });

    const del = await request(t, "DELETE", "/api/keys", {
      token: user.token,
      body: { provider_key: "local" },
    });
    expect(del.body).toEqual({ status: "ok" });
    const again = await request(t, "DELETE", "/api/keys", {
      token: user.token,
      body: { provider_key: "local" },
    });
    expect(again.status).toBe(404);
    expect(again.body.error).toBe("Key not found");
    const unknownProvider = await request(t, "PUT", "/api/keys", {
      token: user.token,
      body: { provider_key: "nope", value: "x" },
    });
    expect(unknownProvider.status).toBe(404);
    const audit = await t.server.deps.db.prisma.benchAuditEvent.findMany({
      where: { userId: user.id, action: { startsWith: "provider_key" } },
    });
    expect(audit.map((e) => e.action).sort()).toEqual(["provider_key_deleted", "provider_key_set"]);
  });

  it("env keys: admin only, masked, usable by providers pointing at the official API only", async () => {
    const denied = await request(t, "GET", "/api/env", { token: user.token });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({ error: "Admin access required", detail: "Admin access required" });
    const set = await request(t, "PUT", "/api/env", {
      token: admin.token,
      body: { name: "OPENAI_API_KEY", value: GLOBAL_SECRET },
    });
    expect(set.body).toEqual({ status: "ok", name: "OPENAI_API_KEY", masked_value: "****9876" });
    const list = await request(t, "GET", "/api/env", { token: admin.token });
    expect(list.body.keys).toContainEqual({ name: "OPENAI_API_KEY", masked_value: "****9876", is_set: true });
    expect(list.text).not.toContain("sk-global-secret");
    expect((await t.server.deps.services.benchProviders.resolveModel(user.id, "gpt-4o")).apiKey).toBe(
      GLOBAL_SECRET,
    );
    // A provider of the user's pointing elsewhere never gets the global key.
    await request(t, "POST", "/api/config/provider", {
      token: user.token,
      body: { provider_key: "sneaky", api_base: `${modelsUrl}/v1`, api_key_env: "OPENAI_API_KEY" },
    });
    await request(t, "GET", "/api/models/discover?provider_key=sneaky", { token: user.token });
    expect(seenAuth.at(-1)).toBeUndefined();
    const keys = await request(t, "GET", "/api/keys", { token: user.token });
    expect(
      keys.body.keys.find((k: { provider_key: string }) => k.provider_key === "openai").has_global_key,
    ).toBe(true);
    expect(
      (await request(t, "DELETE", "/api/env", { token: admin.token, body: { name: "OPENAI_API_KEY" } })).body,
    ).toEqual({ status: "ok" });
  });
});

describe("provider parameters", () => {
  it("serves the registry and validates params per provider kind", async () => {
    const registry = await request(t, "GET", "/api/provider-params/registry", { token: user.token });
    expect(Object.keys(registry.body.providers)).toEqual(
      expect.arrayContaining(["openai", "anthropic", "gemini", "_unknown"]),
    );
    expect(registry.body.providers.anthropic.tier1.temperature).toMatchObject({ min: 0, max: 1 });

    const anthropic = await request(t, "POST", "/api/provider-params/validate", {
      token: user.token,
      body: {
        provider_key: "anthropic",
        model_id: "anthropic/claude-sonnet-4-5",
        params: { temperature: 1.5, top_p: 0.9, max_tokens: 512, passthrough: { service_tier: "flex" } },
      },
    });
    expect(anthropic.body.valid).toBe(false);
    expect(anthropic.body.resolved_params).toEqual({ temperature: 1, max_tokens: 512, service_tier: "flex" });
    expect(
      anthropic.body.adjustments.map((a: { param: string; action: string }) => `${a.param}:${a.action}`),
    ).toEqual(["temperature:clamp", "top_p:drop", "service_tier:passthrough"]);
    const openai = await request(t, "POST", "/api/provider-params/validate", {
      token: user.token,
      body: { model_id: "gpt-4o", provider_key: "openai", params: { temperature: 0.7, top_p: 0.5 } },
    });
    expect(openai.body).toEqual({
      valid: true,
      adjustments: [],
      warnings: [],
      resolved_params: { temperature: 0.7, top_p: 0.5 },
    });
  });
});

describe("logs", () => {
  it("never hold a provider key, a global key, a password or a refresh token", () => {
    const text = logged.join("");
    expect(logged.length).toBeGreaterThan(20);
    for (const secret of [SECRET, GLOBAL_SECRET, "correct horse battery", user.cookie.split("=")[1]!])
      expect({ secret: secret.slice(0, 6), found: text.includes(secret) }).toEqual({
        secret: secret.slice(0, 6),
        found: false,
      });
  });
});
