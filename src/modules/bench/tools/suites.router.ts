import { z } from "zod";
import { router, userProcedure } from "../../../trpc/init.js";
import { TAGS } from "../shared/procedures.js";
import {
  addCasesSchema,
  caseIdSchema,
  casesAddedSchema,
  casesSchema,
  createSuiteSchema,
  importedSchema,
  importSuiteSchema,
  mcpDiscoveredSchema,
  mcpDiscoverSchema,
  mcpImportedSchema,
  mcpImportSchema,
  okSchema,
  suiteCreatedSchema,
  suiteIdSchema,
  suiteListSchema,
  suiteSchema,
  updateCaseSchema,
  updateSuiteSchema,
} from "./suites.schema.js";
import { CASE_NOT_FOUND, SUITE_NOT_FOUND } from "./suites.service.js";

const tags = [...TAGS.toolSuites];
const mcpTags = [...TAGS.mcp];
const suiteMissing = { 404: SUITE_NOT_FOUND };
const caseMissing = { 404: `${SUITE_NOT_FOUND} / ${CASE_NOT_FOUND}` };

export const toolSuitesRouter = router({
  list: userProcedure
    .meta({ openapi: { method: "GET", path: "/api/tool-suites", tags, summary: "Your tool suites" } })
    .input(z.void())
    .output(suiteListSchema)
    .query(({ ctx }) => ctx.deps.services.benchSuites.list(ctx.principal.userId)),

  create: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/tool-suites",
        tags,
        summary: "Create a suite (tools in OpenAI's function format)",
      },
    })
    .input(createSuiteSchema)
    .output(suiteCreatedSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchSuites.create(ctx.principal.userId, input)),

  get: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/tool-suites/{suite_id}",
        tags,
        summary: "A suite with its tools and cases",
        errorResponses: suiteMissing,
      },
    })
    .input(suiteIdSchema)
    .output(suiteSchema)
    .query(({ ctx, input }) => ctx.deps.services.benchSuites.get(ctx.principal.userId, input.suite_id)),

  update: userProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: "/api/tool-suites/{suite_id}",
        tags,
        summary: "Change a suite's name, description or tools",
        errorResponses: suiteMissing,
      },
    })
    .input(updateSuiteSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchSuites.update(ctx.principal.userId, input)),

  delete: userProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/tool-suites/{suite_id}",
        tags,
        summary: "Delete a suite and its cases (past evals keep its name)",
        errorResponses: suiteMissing,
      },
    })
    .input(suiteIdSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchSuites.delete(ctx.principal.userId, input.suite_id)),

  cases: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/tool-suites/{suite_id}/cases",
        tags,
        summary: "A suite's cases, in order",
        errorResponses: suiteMissing,
      },
    })
    .input(suiteIdSchema)
    .output(casesSchema)
    .query(({ ctx, input }) => ctx.deps.services.benchSuites.listCases(ctx.principal.userId, input.suite_id)),

  addCases: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/tool-suites/{suite_id}/cases",
        tags,
        summary:
          "Add one case ({prompt, expected_tool, ...} → case_id) or several ({cases: [...]} → created)",
        errorResponses: suiteMissing,
      },
    })
    .input(addCasesSchema)
    .output(casesAddedSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchSuites.addCases(ctx.principal.userId, input)),

  updateCase: userProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: "/api/tool-suites/{suite_id}/cases/{case_id}",
        tags,
        summary: "Change a case (multi_turn: false makes it single-turn again)",
        errorResponses: caseMissing,
      },
    })
    .input(updateCaseSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchSuites.updateCase(ctx.principal.userId, input)),

  deleteCase: userProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/tool-suites/{suite_id}/cases/{case_id}",
        tags,
        summary: "Delete a case",
        errorResponses: caseMissing,
      },
    })
    .input(caseIdSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchSuites.deleteCase(ctx.principal.userId, input.suite_id, input.case_id),
    ),

  import: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/tool-eval/import",
        tags,
        summary:
          "Import a suite with its tools and cases from JSON (format: docs/bench-tool-suite.example.json)",
      },
    })
    .input(importSuiteSchema)
    .output(importedSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchSuites.importSuite(ctx.principal.userId, input)),
});

export const mcpRouter = router({
  discover: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/mcp/discover",
        tags: mcpTags,
        summary:
          "List an MCP server's tools (the official SDK's client, over Streamable HTTP or an allowed stdio command)",
        errorResponses: {
          502: "Could not connect to (or start) the MCP server / it went away",
          504: "The MCP server did not answer in time",
        },
      },
    })
    .input(mcpDiscoverSchema)
    .output(mcpDiscoveredSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchMcp.discover(
        input.command !== undefined ? { command: input.command, args: input.args } : { url: input.url! },
      ),
    ),

  import: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/mcp/import",
        tags: mcpTags,
        summary:
          "Import MCP tools (as discover lists them) as a new suite, optionally with one case per tool",
      },
    })
    .input(mcpImportSchema)
    .output(mcpImportedSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchMcp.import(ctx.principal.userId, input)),
});
