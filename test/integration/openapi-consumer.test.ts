/**
 * The REST API as an integrator with their own tools sees it: a client generated from /openapi.json with
 * openapi-typescript + openapi-fetch must typecheck and work, and every answer of a realistic flow must
 * match what the document promises (a documented status, a body valid against its schema).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

type OpenApiDocument = { paths: Record<string, Record<string, OperationObject>> };
type OperationObject = {
  operationId?: string;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
};

let t: TestServer;
let doc: OpenApiDocument;
// .vitest-tmp/ is git-ignored and inside the project, so the generated client resolves node_modules.
const workDir = resolve(".vitest-tmp", `openapi-consumer-${randomBytes(4).toString("hex")}`);

beforeAll(async () => {
  t = await startTestServer();
  doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as OpenApiDocument;
});

afterAll(async () => {
  rmSync(workDir, { recursive: true, force: true });
  await t?.close();
});

const CLIENT_SOURCE = `
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

export async function runClientFlow(baseUrl: string, authorization: string) {
  const dashboard = createClient<paths>({ baseUrl, headers: { authorization } });

  const config = await dashboard.GET("/dashboard/api/config");
  const riskThreshold: number | undefined = config.data?.risk_threshold;

  const created = await dashboard.POST("/dashboard/api/item-datasets", {
    body: { name: "Generated client dataset", modality: "image", prompt: "Is this a bee?" },
  });
  const datasetId: string = created.data!.id;

  const listed = await dashboard.GET("/dashboard/api/item-datasets", {
    params: { query: { limit: 10, offset: 0 } },
  });

  const key = await dashboard.POST("/dashboard/api/apikeys", {
    body: { label: "generated client", datasets: [datasetId], scopes: ["challenge", "data:write"] },
  });
  const rawKey: string = key.data!.raw_key;

  const api = createClient<paths>({ baseUrl, headers: { "x-hiveguard-key": rawKey } });
  const uploaded = await api.POST("/api/v1/data/items", {
    body: {
      items: [0, 1, 2, 3].map((i) => ({
        dataset_id: datasetId,
        data_ref: "https://example.com/generated/" + i + ".jpg",
        modality: "image" as const,
        ground_truth: i % 2 === 0 ? "yes" : "no",
      })),
    },
  });
  const challenge = await api.GET("/api/v1/challenge/generate", { params: { query: { modality: "image" } } });

  const run = await dashboard.POST("/tracker/api/v1/projects/{project}/runs", {
    params: { path: { project: "generated-client" } },
    body: { name: "first", config: { lr: 0.01 }, tags: ["consumer"] },
  });
  const logged = await dashboard.POST("/tracker/api/v1/projects/{project}/runs/{run}/metrics", {
    params: { path: { project: "generated-client", run: "first" } },
    body: { records: [{ metrics: { loss: 0.5 }, step: 0 }, { metrics: { loss: 0.25 }, step: 1 }] },
  });

  return {
    riskThreshold,
    datasetName: created.data?.name,
    listedNames: (listed.data ?? []).map((d) => d.name),
    keyPrefix: key.data?.key_prefix,
    uploadStatus: uploaded.response.status,
    challengeStatus: challenge.response.status,
    challengeItems: challenge.data?.items.length ?? 0,
    runName: run.data?.run.name,
    metricsStatus: logged.response.status,
  };
}
`;

describe("a client generated with openapi-typescript", () => {
  it("typechecks under strict settings and drives the real API", async () => {
    mkdirSync(workDir, { recursive: true });
    const ast = await openapiTS(doc as never);
    writeFileSync(join(workDir, "schema.ts"), astToString(ast));
    writeFileSync(join(workDir, "client.ts"), CLIENT_SOURCE);

    const program = ts.createProgram([join(workDir, "client.ts")], {
      strict: true,
      noEmit: true,
      noUncheckedIndexedAccess: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      types: [],
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) =>
      ts.formatDiagnostic(d, {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => workDir,
        getNewLine: () => "\n",
      }),
    );
    expect(diagnostics, diagnostics.join("\n")).toEqual([]);

    const client = (await import(join(workDir, "client.ts"))) as {
      runClientFlow(baseUrl: string, authorization: string): Promise<Record<string, unknown>>;
    };
    const result = await client.runClientFlow(t.url, t.dashboardAuth);
    expect(typeof result.riskThreshold).toBe("number");
    expect(result.datasetName).toBe("Generated client dataset");
    expect(result.listedNames).toContain("Generated client dataset");
    expect(result.keyPrefix).toMatch(/\S/);
    expect(result.uploadStatus).toBe(201);
    expect(result.challengeStatus).toBe(200);
    expect(result.challengeItems).toBeGreaterThan(0);
    expect(result.runName).toBe("first");
    expect(result.metricsStatus).toBe(200);
  });
});

describe("every response of a realistic flow", () => {
  it("has a documented status and a body valid against the documented schema", async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    // ajv-formats is CommonJS: under NodeNext its function is the default export's `default`.
    ajvFormats.default(ajv);
    ajv.addSchema(doc, "openapi");
    // Guard against a validator that passes everything (e.g. a $ref that silently resolves to {}).
    expect(ajv.validate({ $ref: "openapi#/components/schemas/HTTPError" }, { nope: 1 })).toBe(false);

    const mismatches: string[] = [];
    const operations = new Set<string>();
    let validated = 0;

    /** One call; `template` is the documented path, `path` fills it. Checks the answer against the document. */
    async function call(
      method: string,
      template: string,
      init: { path?: string; body?: unknown; headers?: Record<string, string> } = {},
    ): Promise<{ status: number; body: any }> {
      const headers: Record<string, string> = { ...init.headers };
      if (init.body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(`${t.url}${init.path ?? template}`, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const text = await response.text();
      const body: unknown = text === "" ? undefined : JSON.parse(text);
      const name = `${method} ${template} -> ${response.status}`;
      const operation = doc.paths[template]?.[method.toLowerCase()];
      operations.add(`${method} ${template}`);
      const documented = operation?.responses[String(response.status)];
      if (!documented) {
        mismatches.push(`${name}: status not documented (body: ${text.slice(0, 200)})`);
        return { status: response.status, body };
      }
      const contentType = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
      if (body === undefined && !documented.content) {
        validated++;
        return { status: response.status, body };
      }
      if (!documented.content?.[contentType]?.schema) {
        mismatches.push(`${name}: content type "${contentType}" not documented for this status`);
        return { status: response.status, body };
      }
      const pointer = [
        "paths",
        template,
        method.toLowerCase(),
        "responses",
        String(response.status),
        "content",
        contentType,
        "schema",
      ]
        .map((part) => encodeURIComponent(part.replaceAll("~", "~0").replaceAll("/", "~1")))
        .join("/");
      const validate = ajv.compile({ $ref: `openapi#/${pointer}` });
      if (validate(body)) validated++;
      else mismatches.push(`${name}: ${ajv.errorsText(validate.errors)} (body: ${text.slice(0, 300)})`);
      return { status: response.status, body };
    }

    const dash = { authorization: t.dashboardAuth };
    const get = (template: string, path?: string) => call("GET", template, { path, headers: dash });
    const post = (template: string, body: unknown, path?: string) =>
      call("POST", template, { path, body, headers: dash });

    // System
    expect((await call("GET", "/api/v1/health")).status).toBe(200);
    expect((await call("GET", "/api/v1/ready")).status).toBe(200);

    // Dashboard: config and metrics
    const config = await get("/dashboard/api/config");
    expect(config.status).toBe(200);
    expect((await post("/dashboard/api/config", { risk_threshold: 0.4 })).body.risk_threshold).toBe(0.4);
    await get("/dashboard/api/metrics");
    await get("/dashboard/api/metrics/timeseries");
    await get("/dashboard/api/metrics/tiers");

    // Datasets, items, labels
    const dataset = await post("/dashboard/api/item-datasets", {
      name: "Bees",
      modality: "image",
      prompt: "A bee?",
    });
    expect(dataset.status).toBe(201);
    const datasetId = dataset.body.id as string;
    const datasetPath = `/dashboard/api/item-datasets/${datasetId}`;
    expect(
      (await get("/dashboard/api/item-datasets", "/dashboard/api/item-datasets?limit=5&offset=0")).status,
    ).toBe(200);
    expect((await get("/dashboard/api/item-datasets/{id}", datasetPath)).body.name).toBe("Bees");
    await get(
      "/dashboard/api/item-datasets/progress",
      `/dashboard/api/item-datasets/progress?ids=${datasetId}`,
    );
    const items = Array.from({ length: 6 }, (_, i) => ({
      data_ref: `https://example.com/bees/${i}.jpg`,
      ...(i < 4 && { ground_truth: i % 2 === 0 ? "yes" : "no" }),
    }));
    expect(
      (await post("/dashboard/api/item-datasets/{id}/items", { items }, `${datasetPath}/items`)).status,
    ).toBe(201);
    await get("/dashboard/api/labels", `/dashboard/api/labels?dataset_id=${datasetId}&limit=10`);

    // API keys
    const key = await post("/dashboard/api/apikeys", { label: "consumer", datasets: [datasetId] });
    expect(key.status).toBe(201);
    const apiKey = { "x-hiveguard-key": key.body.raw_key as string, "user-agent": "openapi-consumer-test" };
    await get("/dashboard/api/apikeys", "/dashboard/api/apikeys?limit=10&offset=0");
    const doomed = await post("/dashboard/api/apikeys", { label: "to revoke" });
    expect(
      (
        await call("DELETE", "/dashboard/api/apikeys/{id}", {
          path: `/dashboard/api/apikeys/${doomed.body.id}`,
          headers: dash,
        })
      ).status,
    ).toBe(204);

    // Data and challenges with the API key
    const upload = await call("POST", "/api/v1/data/items", {
      headers: apiKey,
      body: {
        items: [{ dataset_id: datasetId, data_ref: "https://example.com/bees/extra.jpg", modality: "image" }],
      },
    });
    expect(upload.status).toBe(201);
    await call("GET", "/api/v1/data/items", {
      path: "/api/v1/data/items?limit=10&offset=0",
      headers: apiKey,
    });
    await call("GET", "/api/v1/data/labeled", { path: "/api/v1/data/labeled?limit=10", headers: apiKey });
    const challenge = await call("GET", "/api/v1/challenge/generate", {
      path: "/api/v1/challenge/generate?modality=image",
      headers: apiKey,
    });
    expect(challenge.status).toBe(200);
    await call("GET", "/api/v1/challenge/generate/{modality}", {
      path: "/api/v1/challenge/generate/image",
      headers: apiKey,
    });
    const truth = new Map(items.map((item) => [item.data_ref, item.ground_truth ?? "yes"]));
    const submit = await call("POST", "/api/v1/challenge/submit", {
      headers: apiKey,
      body: {
        challenge_id: challenge.body.challenge_id,
        responses: challenge.body.items.map((item: { id: string; data_ref: string }) => ({
          item_id: item.id,
          answer: truth.get(item.data_ref) ?? "yes",
        })),
      },
    });
    expect(submit.status).toBe(200);

    // Proxy rules
    const rule = await post("/dashboard/api/proxy-rules", {
      pattern: "/admin",
      match_type: "prefix",
      priority: 5,
    });
    expect(rule.status).toBe(201);
    const rulePath = `/dashboard/api/proxy-rules/${rule.body.id}`;
    await get("/dashboard/api/proxy-rules", "/dashboard/api/proxy-rules?limit=10");
    await call("PATCH", "/dashboard/api/proxy-rules/{id}", {
      path: rulePath,
      body: { priority: 6 },
      headers: dash,
    });
    await get("/dashboard/api/proxy-rules/test", "/dashboard/api/proxy-rules/test?path=/admin/users");
    expect(
      (await call("DELETE", "/dashboard/api/proxy-rules/{id}", { path: rulePath, headers: dash })).status,
    ).toBe(204);

    // Risk model
    await get("/dashboard/api/ml/status");

    // Tracking: ingestion API, then the read API
    const runs = "/tracker/api/v1/projects/{project}/runs";
    const run = await post(
      runs,
      { name: "r1", config: { lr: 0.1 }, tags: ["a"] },
      "/tracker/api/v1/projects/consumer/runs",
    );
    expect(run.status).toBe(201);
    const runBase = "/tracker/api/v1/projects/consumer/runs/r1";
    await post(
      `${runs}/{run}/metrics`,
      { records: [{ metrics: { loss: 1 }, step: 0 }, { metrics: { loss: 0.5 } }] },
      `${runBase}/metrics`,
    );
    await call("PUT", `${runs}/{run}/config`, {
      path: `${runBase}/config`,
      body: { batch: 32 },
      headers: dash,
    });
    await post(`${runs}/{run}/tags`, { tags: ["b"] }, `${runBase}/tags`);
    await get("/api/projects", "/api/projects");
    await get("/api/projects/{project}/runs", "/api/projects/consumer/runs");
    const metrics = await get(
      "/api/projects/{project}/runs/{run}/metrics",
      "/api/projects/consumer/runs/r1/metrics",
    );
    expect(metrics.status).toBe(200);
    await get("/api/projects/{project}/runs/{run}/params", "/api/projects/consumer/runs/r1/params");
    await get("/api/projects/{project}/runs/{run}/metadata", "/api/projects/consumer/runs/r1/metadata");
    await get("/api/projects/{project}/metadata", "/api/projects/consumer/metadata");
    await post(`${runs}/{run}/finish`, {}, `${runBase}/finish`);
    await get("/api/projects/{project}/runs/metrics", "/api/projects/consumer/runs/metrics?runs=r1");
    const metadata = { notes: "from the consumer test", tags: ["c"] };
    await call("PUT", "/api/projects/{project}/runs/{run}/metadata", {
      path: "/api/projects/consumer/runs/r1/metadata",
      body: metadata,
      headers: dash,
    });
    await call("PUT", "/api/projects/{project}/metadata", {
      path: "/api/projects/consumer/metadata",
      body: metadata,
      headers: dash,
    });
    // The tracking UI's deletes want X-Requested-With, as its browser client sends (a CSRF guard).
    const ajaxDash = { ...dash, "x-requested-with": "XMLHttpRequest" };
    const deletedRun = await call("DELETE", "/api/projects/{project}/runs/{run}", {
      path: "/api/projects/consumer/runs/r1",
      headers: ajaxDash,
    });
    expect(deletedRun.status).toBe(200);
    const deletedProject = await call("DELETE", "/api/projects/{project}", {
      path: "/api/projects/consumer",
      headers: ajaxDash,
    });
    expect(deletedProject.status).toBe(200);

    // Cleanup through the API
    expect(
      (await call("DELETE", "/dashboard/api/item-datasets/{id}", { path: datasetPath, headers: dash }))
        .status,
    ).toBe(204);

    // Error answers a client must handle
    expect((await call("GET", "/dashboard/api/config")).status).toBe(401);
    expect(
      (await call("GET", "/api/v1/data/items", { headers: { "x-hiveguard-key": "hg_not_a_key" } })).status,
    ).toBe(401);
    expect((await get("/dashboard/api/item-datasets/{id}", datasetPath)).status).toBe(404);
    expect((await get("/api/projects/{project}/runs", "/api/projects/no-such-project/runs")).status).toBe(
      404,
    );
    expect((await post("/dashboard/api/item-datasets", { name: "" })).status).toBe(422);
    expect((await get("/dashboard/api/item-datasets", "/dashboard/api/item-datasets?limit=-1")).status).toBe(
      422,
    );
    expect((await post("/dashboard/api/config", { risk_threshold: 7 })).status).toBe(422);

    expect(mismatches, `Responses that do not match /openapi.json:\n${mismatches.join("\n")}`).toEqual([]);
    console.info(`openapi-consumer: ${validated} responses validated over ${operations.size} operations`);
    expect(validated).toBeGreaterThanOrEqual(40);
  });
});
