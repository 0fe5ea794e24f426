// The wire contract of tool suites and their cases (bench-upstream-shapes.md "Tool suites and cases").
import { z } from "zod";

export const SUITES_MAX = 200;
export const TOOLS_MAX = 128;
export const CASES_MAX = 1000;
export const ROUNDS_MAX = 20;

/** The names every provider accepts for a function (OpenAI's rule, the strictest). */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export const toolSchema = z
  .object({
    type: z.literal("function", { error: "type must be 'function'" }),
    function: z
      .object({
        name: z
          .string({ error: "function.name is required" })
          .regex(TOOL_NAME, "function.name must be 1-64 letters, digits, '_' or '-'"),
        description: z.string().max(10_000).optional(),
        parameters: z
          .record(z.string(), z.unknown())
          .optional()
          .describe("JSON Schema of the arguments (an object schema)"),
      })
      .loose(),
  })
  .loose()
  .describe("A tool in OpenAI's function format");
export type ToolDefinition = z.infer<typeof toolSchema>;

export const toolsSchema = z.array(toolSchema).max(TOOLS_MAX);

const toolName = z.string().trim().min(1).max(128);

export const expectedToolSchema = z
  .union([toolName, z.array(toolName).min(1).max(50), z.null()])
  .describe("A tool name, a list of acceptable tool names, or null: the model should call no tool");

const multiTurnFields = {
  multi_turn: z
    .boolean()
    .optional()
    .describe("A multi-turn case (tool results fed back until the final call)"),
  max_rounds: z.number().int().min(1).max(ROUNDS_MAX).optional().describe("Default 5"),
  mock_responses: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("Tool name → the result fed back when the model calls it (default {status: 'ok'})"),
  valid_prerequisites: z
    .array(toolName)
    .max(50)
    .optional()
    .describe("Tools that may be called on the way to the expected one without a detour penalty"),
  optimal_hops: z.number().int().min(1).max(ROUNDS_MAX).optional().describe("Default 2"),
};

export const multiTurnConfigSchema = z.object({
  multi_turn: z.boolean().optional(),
  max_rounds: multiTurnFields.max_rounds,
  mock_responses: multiTurnFields.mock_responses,
  valid_prerequisites: multiTurnFields.valid_prerequisites,
  optimal_hops: multiTurnFields.optimal_hops,
});

export const caseInputSchema = z.object({
  prompt: z.string().trim().min(1, "prompt is required").max(100_000),
  expected_tool: expectedToolSchema.optional(),
  expected_params: z
    .record(z.string(), z.unknown())
    .nullish()
    .describe("Arguments the call should carry (each key scored); null or absent: not scored"),
  param_scoring: z.literal("exact").optional().describe('"exact" (the only mode)'),
  multi_turn_config: multiTurnConfigSchema.nullish(),
  ...multiTurnFields,
});
export type CaseInput = z.infer<typeof caseInputSchema>;

const suiteId = z.string().min(1).max(100);
const caseId = z.string().min(1).max(100);

export const suiteIdSchema = z.object({ suite_id: suiteId });
export const caseIdSchema = z.object({ suite_id: suiteId, case_id: caseId });

export const createSuiteSchema = z.object({
  name: z.string().trim().min(1, "name is required").max(200),
  description: z.string().max(10_000).default(""),
  tools: toolsSchema.default([]),
});

export const updateSuiteSchema = z.object({
  suite_id: suiteId,
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().max(10_000).optional(),
  tools: toolsSchema.optional(),
});

/** One case (`prompt` …) or several at once (`cases: [...]`). */
export const addCasesSchema = z.object({
  suite_id: suiteId,
  cases: z.array(caseInputSchema).min(1).max(CASES_MAX).optional().describe("Bulk: several cases"),
  prompt: z.string().max(100_000).optional(),
  expected_tool: expectedToolSchema.optional(),
  expected_params: caseInputSchema.shape.expected_params,
  param_scoring: caseInputSchema.shape.param_scoring,
  multi_turn_config: multiTurnConfigSchema.nullish(),
  ...multiTurnFields,
});
export type AddCases = z.infer<typeof addCasesSchema>;

export const updateCaseSchema = z.object({
  suite_id: suiteId,
  case_id: caseId,
  prompt: z.string().trim().min(1).max(100_000).optional(),
  expected_tool: expectedToolSchema.optional(),
  expected_params: caseInputSchema.shape.expected_params,
  param_scoring: caseInputSchema.shape.param_scoring,
  multi_turn_config: multiTurnConfigSchema.nullish(),
  ...multiTurnFields,
});
export type UpdateCase = z.infer<typeof updateCaseSchema>;

export const importSuiteSchema = z.object({
  name: z.string().trim().min(1, "name is required").max(200),
  description: z.string().max(10_000).default(""),
  tools: toolsSchema.default([]),
  test_cases: z.array(caseInputSchema).max(CASES_MAX).default([]),
});
export type ImportSuite = z.infer<typeof importSuiteSchema>;

export const caseSchema = z.object({
  id: z.string(),
  suite_id: z.string(),
  prompt: z.string(),
  expected_tool: z.union([z.string(), z.array(z.string()), z.null()]),
  expected_params: z.record(z.string(), z.unknown()).nullable(),
  param_scoring: z.string(),
  created_at: z.string(),
  multi_turn_config: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe("Parsed (upstream sends it as JSON text)"),
  multi_turn: z.boolean(),
  max_rounds: z.number().int().optional(),
  mock_responses: z.record(z.string(), z.unknown()).optional(),
  valid_prerequisites: z.array(z.string()).optional(),
  optimal_hops: z.number().int().optional(),
});
export type WireCase = z.infer<typeof caseSchema>;

const suiteBase = {
  id: z.string(),
  user_id: z.string(),
  name: z.string(),
  description: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  tool_count: z.number().int(),
  test_case_count: z.number().int(),
};

export const suiteListSchema = z.object({
  suites: z.array(z.object({ ...suiteBase, tools_json: z.string().describe("The tools as JSON text") })),
});
export const suiteSchema = z.object({
  ...suiteBase,
  tools: z.array(z.record(z.string(), z.unknown())),
  test_cases: z.array(caseSchema),
});
export const casesSchema = z.object({ cases: z.array(caseSchema) });

export const okSchema = z.object({ status: z.literal("ok") });
export const suiteCreatedSchema = z.object({ status: z.literal("ok"), suite_id: z.string() });
export const casesAddedSchema = z.object({
  status: z.literal("ok"),
  case_id: z.string().optional().describe("One case added"),
  created: z.number().int().optional().describe("Bulk: how many were added"),
});
export const importedSchema = z.object({
  status: z.literal("ok"),
  suite_id: z.string(),
  test_cases_created: z.number().int(),
});

// ── MCP ─────────────────────────────────────────────────────────────────────────────────────────────────

export const mcpDiscoverSchema = z
  .object({
    url: z.string().trim().max(2000).optional().describe("The MCP server's Streamable HTTP endpoint"),
    command: z
      .string()
      .trim()
      .min(1, "command is empty")
      .max(1000)
      .optional()
      .describe(
        "Ours: a stdio MCP server to start instead of a URL; only executables listed in BENCH_MCP_STDIO_COMMANDS",
      ),
    args: z.array(z.string().max(4000)).max(100).default([]).describe("The stdio command's arguments"),
  })
  .superRefine((input, ctx) => {
    if (input.command !== undefined && input.url)
      ctx.addIssue({ code: "custom", path: ["command"], message: "give url or command, not both" });
    else if (input.command === undefined && !input.url)
      ctx.addIssue({
        code: "custom",
        path: ["url"],
        message: "url is required (or command, for a stdio server)",
      });
  });

export const mcpToolSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(10_000).optional(),
    inputSchema: z.record(z.string(), z.unknown()).default({ type: "object" }),
  })
  .loose();

export const mcpDiscoveredSchema = z.object({
  status: z.literal("ok"),
  server_name: z.string(),
  tools: z.array(
    z.object({
      name: z.string(),
      description: z.string(),
      inputSchema: z.record(z.string(), z.unknown()),
      parameter_count: z.number().int(),
    }),
  ),
  tool_count: z.number().int(),
  error: z.string().optional().describe("Set when the server has no tools (upstream answers 200 with it)"),
});

export const mcpImportSchema = z.object({
  tools: z.array(mcpToolSchema).min(1, "No tools selected").max(TOOLS_MAX),
  suite_name: z.string().max(200).nullish().describe('Default: "MCP: <the first three tool names>"'),
  suite_description: z.string().max(10_000).nullish(),
  generate_test_cases: z
    .boolean()
    .default(false)
    .describe("One case per tool, its required parameters filled"),
});

export const mcpImportedSchema = z.object({
  status: z.literal("ok"),
  suite_id: z.string(),
  tools_imported: z.number().int(),
  test_cases_generated: z.number().int(),
});
