// Tool suites and their cases: CRUD (one user's own only), JSON import, and what an eval reads of a suite.
import { Prisma, type PrismaClient } from "../../../generated/prisma/client.js";
import { NotFoundError, ValidationError } from "../../../platform/errors.js";
import { UUID } from "../runs/service.js";
import {
  CASES_MAX,
  SUITES_MAX,
  type AddCases,
  type CaseInput,
  type ImportSuite,
  type ToolDefinition,
  type UpdateCase,
  type WireCase,
} from "./suites.schema.js";

export const SUITE_NOT_FOUND = "Suite not found";
export const CASE_NOT_FOUND = "Test case not found";

export const MULTI_TURN_DEFAULTS = { max_rounds: 5, optimal_hops: 2 } as const;

/** A multi-turn case's settings, defaults filled in. */
export interface MultiTurnConfig {
  multi_turn: true;
  max_rounds: number;
  mock_responses: Record<string, unknown>;
  valid_prerequisites: string[];
  optimal_hops: number;
}

/** A case as an eval runs it. */
export interface SuiteCase {
  id: string;
  prompt: string;
  expectedTool: string | string[] | null;
  expectedParams: Record<string, unknown> | null;
  multiTurn: MultiTurnConfig | null;
}

type CaseRow = NonNullable<Awaited<ReturnType<PrismaClient["benchToolCase"]["findFirst"]>>>;
type SuiteRow = NonNullable<Awaited<ReturnType<PrismaClient["benchToolSuite"]["findFirst"]>>>;

type CaseFields = Omit<CaseInput, "prompt"> & { prompt?: string };

/** The multi-turn settings of an input (flat fields win over `multi_turn_config`); null for a single-turn case. */
function multiTurnOf(input: CaseFields): MultiTurnConfig | null {
  const nested = input.multi_turn_config ?? {};
  const flagged = input.multi_turn ?? nested.multi_turn ?? (input.multi_turn_config ? true : undefined);
  if (!flagged) return null;
  return {
    multi_turn: true,
    max_rounds: input.max_rounds ?? nested.max_rounds ?? MULTI_TURN_DEFAULTS.max_rounds,
    mock_responses: input.mock_responses ?? nested.mock_responses ?? {},
    valid_prerequisites: input.valid_prerequisites ?? nested.valid_prerequisites ?? [],
    optimal_hops: input.optimal_hops ?? nested.optimal_hops ?? MULTI_TURN_DEFAULTS.optimal_hops,
  };
}

/** Whether the input says anything about multi-turn (an update leaves the setting alone otherwise). */
function touchesMultiTurn(input: CaseFields): boolean {
  return (
    input.multi_turn !== undefined ||
    input.multi_turn_config !== undefined ||
    input.max_rounds !== undefined ||
    input.mock_responses !== undefined ||
    input.valid_prerequisites !== undefined ||
    input.optimal_hops !== undefined
  );
}

const jsonOrDbNull = (value: unknown) =>
  value === null || value === undefined ? Prisma.DbNull : (value as Prisma.InputJsonValue);

function expectedToolOf(value: unknown): string | string[] | null {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return null;
}

function objectOrNull(value: unknown): Record<string, unknown> | null {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

export function caseOf(row: CaseRow): SuiteCase {
  const mt = objectOrNull(row.multiTurn);
  return {
    id: row.id,
    prompt: row.prompt,
    expectedTool: expectedToolOf(row.expectedTool),
    expectedParams: objectOrNull(row.expectedParams),
    multiTurn: mt?.multi_turn
      ? {
          multi_turn: true,
          max_rounds: typeof mt.max_rounds === "number" ? mt.max_rounds : MULTI_TURN_DEFAULTS.max_rounds,
          mock_responses: objectOrNull(mt.mock_responses) ?? {},
          valid_prerequisites: Array.isArray(mt.valid_prerequisites)
            ? mt.valid_prerequisites.filter((v): v is string => typeof v === "string")
            : [],
          optimal_hops:
            typeof mt.optimal_hops === "number" ? mt.optimal_hops : MULTI_TURN_DEFAULTS.optimal_hops,
        }
      : null,
  };
}

function wireCase(row: CaseRow): WireCase {
  const c = caseOf(row);
  return {
    id: row.id,
    suite_id: row.suiteId,
    prompt: row.prompt,
    expected_tool: c.expectedTool,
    expected_params: c.expectedParams,
    param_scoring: row.paramScoring,
    created_at: row.createdAt.toISOString(),
    multi_turn_config: c.multiTurn ? { ...c.multiTurn } : null,
    multi_turn: c.multiTurn !== null,
    ...(c.multiTurn && {
      max_rounds: c.multiTurn.max_rounds,
      mock_responses: c.multiTurn.mock_responses,
      valid_prerequisites: c.multiTurn.valid_prerequisites,
      optimal_hops: c.multiTurn.optimal_hops,
    }),
  };
}

function toolsOf(row: SuiteRow): Record<string, unknown>[] {
  return Array.isArray(row.tools) ? (row.tools as Record<string, unknown>[]) : [];
}

/** 422 when two tools share a name (a provider refuses the request). */
function checkTools(tools: readonly ToolDefinition[], loc: (string | number)[]): void {
  const seen = new Set<string>();
  tools.forEach((tool, index) => {
    const name = tool.function.name;
    if (seen.has(name))
      throw ValidationError.field([...loc, index, "function", "name"], `duplicate tool name ${name}`);
    seen.add(name);
  });
}

/** 422 for a multi-turn case without an expected final tool (the chain would have nothing to reach). */
function checkCase(
  fields: { expectedTool: unknown; multiTurn: MultiTurnConfig | null },
  loc: (string | number)[],
) {
  if (fields.multiTurn && (fields.expectedTool === null || fields.expectedTool === undefined))
    throw ValidationError.field(
      [...loc, "expected_tool"],
      "a multi-turn case needs expected_tool (the final call)",
    );
}

function createData(suiteId: string, input: CaseInput, seq: number, loc: (string | number)[]) {
  const multiTurn = multiTurnOf(input);
  checkCase({ expectedTool: input.expected_tool ?? null, multiTurn }, loc);
  return {
    suiteId,
    seq,
    prompt: input.prompt,
    expectedTool: jsonOrDbNull(input.expected_tool),
    expectedParams: jsonOrDbNull(input.expected_params),
    paramScoring: input.param_scoring ?? "exact",
    multiTurn: jsonOrDbNull(multiTurn),
  };
}

export class SuiteService {
  constructor(private readonly deps: { prisma: PrismaClient }) {}

  private async ownSuite(userId: string, suiteId: string): Promise<SuiteRow> {
    const row = UUID.test(suiteId)
      ? await this.deps.prisma.benchToolSuite.findFirst({ where: { id: suiteId, userId } })
      : null;
    if (!row) throw new NotFoundError(SUITE_NOT_FOUND);
    return row;
  }

  private async cases(suiteId: string): Promise<CaseRow[]> {
    return this.deps.prisma.benchToolCase.findMany({
      where: { suiteId },
      orderBy: [{ seq: "asc" }, { createdAt: "asc" }, { id: "asc" }],
    });
  }

  /** GET /api/tool-suites */
  async list(userId: string) {
    const rows = await this.deps.prisma.benchToolSuite.findMany({
      where: { userId },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      include: { _count: { select: { cases: true } } },
    });
    return {
      suites: rows.map((row) => ({
        id: row.id,
        user_id: row.userId,
        name: row.name,
        description: row.description,
        tools_json: JSON.stringify(toolsOf(row)),
        created_at: row.createdAt.toISOString(),
        updated_at: row.updatedAt.toISOString(),
        tool_count: toolsOf(row).length,
        test_case_count: row._count.cases,
      })),
    };
  }

  /** GET /api/tool-suites/{id}: the suite, its tools parsed, its cases. */
  async get(userId: string, suiteId: string) {
    const row = await this.ownSuite(userId, suiteId);
    const cases = await this.cases(row.id);
    return {
      id: row.id,
      user_id: row.userId,
      name: row.name,
      description: row.description,
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
      tool_count: toolsOf(row).length,
      test_case_count: cases.length,
      tools: toolsOf(row),
      test_cases: cases.map(wireCase),
    };
  }

  /** What an eval needs: the tools and the cases (404 for another user's suite). */
  async forEval(userId: string, suiteId: string) {
    const row = await this.ownSuite(userId, suiteId);
    const cases = await this.cases(row.id);
    return {
      id: row.id,
      name: row.name,
      tools: toolsOf(row) as unknown as ToolDefinition[],
      cases: cases.map(caseOf),
    };
  }

  private async checkSuiteCount(userId: string) {
    if ((await this.deps.prisma.benchToolSuite.count({ where: { userId } })) >= SUITES_MAX)
      throw ValidationError.field(["body", "name"], `at most ${SUITES_MAX} suites per user`, "too_many");
  }

  async create(userId: string, input: { name: string; description: string; tools: ToolDefinition[] }) {
    checkTools(input.tools, ["body", "tools"]);
    await this.checkSuiteCount(userId);
    const row = await this.deps.prisma.benchToolSuite.create({
      data: {
        userId,
        name: input.name,
        description: input.description,
        tools: input.tools as Prisma.InputJsonValue,
      },
    });
    return { status: "ok" as const, suite_id: row.id };
  }

  async update(
    userId: string,
    input: { suite_id: string; name?: string; description?: string; tools?: ToolDefinition[] },
  ) {
    const row = await this.ownSuite(userId, input.suite_id);
    if (input.tools) checkTools(input.tools, ["body", "tools"]);
    await this.deps.prisma.benchToolSuite.update({
      where: { id: row.id },
      data: {
        ...(input.name !== undefined && { name: input.name }),
        ...(input.description !== undefined && { description: input.description }),
        ...(input.tools !== undefined && { tools: input.tools as Prisma.InputJsonValue }),
      },
    });
    return { status: "ok" as const };
  }

  async delete(userId: string, suiteId: string) {
    const row = await this.ownSuite(userId, suiteId);
    await this.deps.prisma.benchToolSuite.deleteMany({ where: { id: row.id, userId } });
    return { status: "ok" as const };
  }

  async listCases(userId: string, suiteId: string) {
    const row = await this.ownSuite(userId, suiteId);
    return { cases: (await this.cases(row.id)).map(wireCase) };
  }

  /** POST …/cases: one case (`prompt` …) or a batch (`cases`), all or nothing. */
  async addCases(userId: string, input: AddCases) {
    const suite = await this.ownSuite(userId, input.suite_id);
    const { prisma } = this.deps;
    const bulk = input.cases !== undefined;
    let items: { input: CaseInput; loc: (string | number)[] }[];
    if (bulk) {
      items = input.cases!.map((item, index) => ({ input: item, loc: ["body", "cases", index] }));
    } else {
      const prompt = input.prompt?.trim();
      if (!prompt) throw ValidationError.field(["body", "prompt"], "prompt is required", "missing");
      const { cases: _cases, suite_id: _suite, ...fields } = input;
      items = [{ input: { ...fields, prompt }, loc: ["body"] }];
    }
    return prisma.$transaction(async (tx) => {
      const existing = await tx.benchToolCase.aggregate({
        where: { suiteId: suite.id },
        _count: { id: true },
        _max: { seq: true },
      });
      if (existing._count.id + items.length > CASES_MAX)
        throw ValidationError.field(
          ["body", bulk ? "cases" : "prompt"],
          `at most ${CASES_MAX} cases per suite`,
          "too_many",
        );
      const start = (existing._max.seq ?? -1) + 1;
      const data = items.map((item, k) => createData(suite.id, item.input, start + k, item.loc));
      if (bulk) {
        await tx.benchToolCase.createMany({ data });
        await tx.benchToolSuite.update({ where: { id: suite.id }, data: { updatedAt: new Date() } });
        return { status: "ok" as const, created: data.length };
      }
      const row = await tx.benchToolCase.create({ data: data[0]! });
      await tx.benchToolSuite.update({ where: { id: suite.id }, data: { updatedAt: new Date() } });
      return { status: "ok" as const, case_id: row.id };
    });
  }

  async updateCase(userId: string, input: UpdateCase) {
    const suite = await this.ownSuite(userId, input.suite_id);
    const row = UUID.test(input.case_id)
      ? await this.deps.prisma.benchToolCase.findFirst({ where: { id: input.case_id, suiteId: suite.id } })
      : null;
    if (!row) throw new NotFoundError(CASE_NOT_FOUND);
    const current = caseOf(row);
    const multiTurn = touchesMultiTurn(input)
      ? input.multi_turn === false
        ? null
        : multiTurnOf({
            ...input,
            // Fields not given keep their values; `multi_turn: true` alone keeps the current settings.
            multi_turn_config: { ...(current.multiTurn ?? {}), ...(input.multi_turn_config ?? {}) },
            multi_turn: input.multi_turn ?? true,
          })
      : current.multiTurn;
    const expectedTool = input.expected_tool !== undefined ? input.expected_tool : current.expectedTool;
    checkCase({ expectedTool, multiTurn }, ["body"]);
    await this.deps.prisma.benchToolCase.update({
      where: { id: row.id },
      data: {
        ...(input.prompt !== undefined && { prompt: input.prompt }),
        ...(input.expected_tool !== undefined && { expectedTool: jsonOrDbNull(input.expected_tool) }),
        ...(input.expected_params !== undefined && { expectedParams: jsonOrDbNull(input.expected_params) }),
        ...(input.param_scoring !== undefined && { paramScoring: input.param_scoring }),
        multiTurn: jsonOrDbNull(multiTurn),
      },
    });
    return { status: "ok" as const };
  }

  async deleteCase(userId: string, suiteId: string, caseId: string) {
    const suite = await this.ownSuite(userId, suiteId);
    const deleted = UUID.test(caseId)
      ? await this.deps.prisma.benchToolCase.deleteMany({ where: { id: caseId, suiteId: suite.id } })
      : { count: 0 };
    if (deleted.count === 0) throw new NotFoundError(CASE_NOT_FOUND);
    return { status: "ok" as const };
  }

  /** POST /api/tool-eval/import: a suite with its tools and cases, in one transaction. */
  async importSuite(userId: string, input: ImportSuite) {
    checkTools(input.tools, ["body", "tools"]);
    await this.checkSuiteCount(userId);
    return this.deps.prisma.$transaction(async (tx) => {
      const suite = await tx.benchToolSuite.create({
        data: {
          userId,
          name: input.name,
          description: input.description,
          tools: input.tools as Prisma.InputJsonValue,
        },
      });
      const data = input.test_cases.map((item, k) =>
        createData(suite.id, item, k, ["body", "test_cases", k]),
      );
      if (data.length > 0) await tx.benchToolCase.createMany({ data });
      return { status: "ok" as const, suite_id: suite.id, test_cases_created: data.length };
    });
  }
}
