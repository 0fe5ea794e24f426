// The module contract's platform side: the own-path matcher compiled from the modules, plain routes declared
// with defineRoute (auth, 422 naming the field, their OpenAPI entry), and the boundary lint rules.
import { ESLint } from "eslint";
import Fastify from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { PLATFORM_PATHS } from "../../src/app.js";
import { modules } from "../../src/modules/index.js";
import { DashboardAuthenticator } from "../../src/platform/auth.js";
import { toWireError } from "../../src/platform/errors.js";
import { defineRoute, registerRoutes, routesOpenApiPaths } from "../../src/platform/http/route.js";
import { ownPathMatcher } from "../../src/platform/module.js";
import { createStateStore, type StateStore } from "../../src/platform/state/index.js";

const ownPaths = [...PLATFORM_PATHS, ...modules.flatMap((m) => m.ownPaths)];

describe("the own-path matcher compiled from the modules", () => {
  const hiveguardEverywhere = [
    "/api/v1/health",
    "/api/v1",
    "/api/v1?x=1",
    "/api/projects/p/runs",
    "/tracker/api/v1/projects/p/runs",
    "/dashboard",
    "/dashboardx",
    "/dashboard/api/config",
    "/trpc/guard.config.get",
    "/graphql",
    "/graphql?query=1",
    "/docs",
    "/docs/static/index.html",
    "/openapi.json",
    "/_hiveguard/challenge?return=/",
  ];
  const siteEverywhere = [
    "/api/v10",
    "/api/projectsx",
    "/docsite",
    "/trackers",
    "/_hiveguardx",
    "/shop",
    "/a",
  ];
  const trackingPages = ["/", "/?q=x", "/projects", "/projects/p/runs/r"];

  it("on a main port without a site: HiveGuard's paths and the tracking pages", () => {
    const isOwn = ownPathMatcher(ownPaths, { siteOnMainPort: false });
    for (const path of [...hiveguardEverywhere, ...trackingPages])
      expect({ path, own: isOwn(path) }).toEqual({ path, own: true });
    for (const path of [...siteEverywhere, "/projectsx"])
      expect({ path, own: isOwn(path) }).toEqual({ path, own: false });
  });

  it("on a main port that fronts a site: the tracking pages are the site's", () => {
    const isOwn = ownPathMatcher(ownPaths, { siteOnMainPort: true });
    for (const path of hiveguardEverywhere) expect({ path, own: isOwn(path) }).toEqual({ path, own: true });
    for (const path of [...siteEverywhere, ...trackingPages])
      expect({ path, own: isOwn(path) }).toEqual({ path, own: false });
  });
});

describe("a plain route declared with defineRoute", () => {
  let state: StateStore;
  const app = Fastify();
  const basic = `Basic ${Buffer.from("ops:route-test-password").toString("base64")}`;
  const route = defineRoute({
    method: "GET",
    path: "/things/{id}/export",
    auth: "dashboard",
    params: z.object({ id: z.string().regex(/^\d+$/) }),
    query: z.object({ fmt: z.enum(["csv", "json"]).default("csv") }),
    openapi: {
      operationId: "exportThing",
      summary: "Export a thing",
      responses: { 200: { description: "The thing", content: { "text/csv": { schema: z.string() } } } },
    },
    handler: async ({ params, query }) => ({ id: params.id, fmt: query.fmt }),
  });

  beforeAll(async () => {
    state = await createStateStore({
      prefix: `route-test-${process.pid}:`,
      logger: pino({ level: "silent" }),
    });
    const auth = new DashboardAuthenticator(
      { username: "ops", password: "route-test-password" },
      state,
      "k".repeat(32),
    );
    app.setErrorHandler((error, request, reply) => {
      const wire = toWireError(error, { log: request.log });
      return reply.code(wire.status).headers(wire.headers).send(wire.body);
    });
    registerRoutes(app, [route], auth);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await state.close();
  });

  it("refuses anonymous calls, names the bad field, and answers with the parsed input", async () => {
    const anonymous = await app.inject({ url: "/things/7/export" });
    expect(anonymous.statusCode).toBe(401);
    const bad = await app.inject({ url: "/things/7/export?fmt=xml", headers: { authorization: basic } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().detail[0].loc).toEqual(["query", "fmt"]);
    const badId = await app.inject({ url: "/things/x/export", headers: { authorization: basic } });
    expect(badId.json().detail[0].loc).toEqual(["path", "id"]);
    const ok = await app.inject({ url: "/things/7/export?fmt=json", headers: { authorization: basic } });
    expect(ok.json()).toEqual({ id: "7", fmt: "json" });
  });

  it("documents itself: operationId, security, parameters and the standard errors", () => {
    const operation = routesOpenApiPaths([route])["/things/{id}/export"]!.get!;
    expect(operation.operationId).toBe("exportThing");
    expect(operation.security).toEqual([{ dashboardBasic: [] }]);
    expect(Object.keys(operation.responses!).sort()).toEqual(["200", "401", "404", "422", "429"]);
    expect(operation.requestParams?.query).toBeDefined();
  });
});

describe("the boundary rules (ESLint, as npm run lint runs them)", { timeout: 120_000 }, () => {
  const lint = async (filePath: string, code: string) => {
    const [result] = await new ESLint().lintText(code, { filePath });
    return result!.messages.map((m) => m.ruleId);
  };

  it("refuses a module reaching into another module, and server code importing clients/", async () => {
    expect(
      await lint(
        "src/modules/guard/boundary-probe.ts",
        'export { TrackingService } from "../tracking/service.js";\n',
      ),
    ).toContain("import-x/no-restricted-paths");
    expect(
      await lint(
        "src/modules/guard/boundary-probe.ts",
        'export type { TrackingRecorder } from "../tracking/index.js";\n',
      ),
    ).not.toContain("import-x/no-restricted-paths");
    expect(
      await lint(
        "src/platform/boundary-probe.ts",
        'export { init } from "../../clients/ts/tracking/index.js";\n',
      ),
    ).toContain("import-x/no-restricted-paths");
    expect(
      await lint("src/trpc/boundary-probe.ts", 'export { guardRouter } from "../modules/guard/module.js";\n'),
    ).toContain("import-x/no-restricted-paths");
  });
});
