import type { Logger } from "pino";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { NotFoundError, ValidationError } from "../../../platform/errors.js";
import { LiveSnapshot } from "../../../platform/live.js";
import type { StateStore } from "../../../platform/state/index.js";
import { type ListPage, type Paged, pageArgs } from "../../../trpc/paging.js";
import { isoDate } from "../shared.schema.js";
import { type CompiledRule, canonicalPath, compileRules, pathOf, patternProblem } from "./matcher.js";
import type { CreateProxyRuleInput, ProxyRuleOut, UpdateProxyRuleInput } from "./proxy-rules.schema.js";

const CHANGED_CHANNEL = "proxy-rules:changed";
const NOT_FOUND = "Proxy rule not found";

type RuleRow = Awaited<ReturnType<PrismaClient["proxyRule"]["findFirstOrThrow"]>>;

const ORDER = [{ priority: "desc" as const }, { createdAt: "asc" as const }, { id: "asc" as const }];

function toOut(row: RuleRow): ProxyRuleOut {
  return {
    id: row.id,
    pattern: row.pattern,
    match_type: row.matchType,
    priority: row.priority,
    enabled: row.enabled,
    created_at: isoDate(row.createdAt),
    updated_at: isoDate(row.updatedAt),
  };
}

/**
 * Proxy rules exempt paths from the challenge. Every instance keeps the enabled rules compiled in memory,
 * in evaluation order; a change reloads them on the instance that made it before it answers, and on every
 * other instance through pub/sub.
 */
export class ProxyRuleService {
  /** The enabled rules, compiled, in evaluation order. */
  private readonly rules: LiveSnapshot<CompiledRule<RuleRow>[]>;

  constructor(
    private readonly prisma: PrismaClient,
    state: StateStore,
    private readonly log: Logger,
  ) {
    this.rules = new LiveSnapshot({
      state,
      channel: CHANGED_CHANNEL,
      initial: [],
      load: async () =>
        compileRules(await this.prisma.proxyRule.findMany({ where: { enabled: true }, orderBy: ORDER })),
      onLoadError: (error) =>
        this.log.error({ err: error }, "reloading proxy rules failed; keeping the previous set"),
    });
  }

  start(): Promise<void> {
    return this.rules.start();
  }

  stop(): Promise<void> {
    return this.rules.stop();
  }

  /**
   * The first enabled rule (highest priority first) that exempts `path` (a query is ignored), or null: the
   * request is challenged. A path that is not canonical (see canonicalPath) is never exempt.
   */
  matchRule(path: string): ProxyRuleOut | null {
    const verdict = canonicalPath(pathOf(path));
    if (!verdict.canonical) return null;
    for (const entry of this.rules.value) if (entry.test(verdict.path)) return toOut(entry.rule);
    return null;
  }

  /**
   * The proxy's hot-path form of matchRule: the id and pattern of the exempting rule, or null, without
   * building the wire object (and without reading the path when no rule is enabled).
   */
  exemptingRule(path: string): { id: string; pattern: string } | null {
    const compiled = this.rules.value;
    if (compiled.length === 0) return null;
    const verdict = canonicalPath(path);
    if (!verdict.canonical) return null;
    for (const entry of compiled) if (entry.test(verdict.path)) return entry.rule;
    return null;
  }

  async list(page?: ListPage): Promise<Paged<ProxyRuleOut>> {
    const [rows, total] = await Promise.all([
      this.prisma.proxyRule.findMany({ orderBy: ORDER, ...pageArgs(page) }),
      this.prisma.proxyRule.count(),
    ]);
    return { rows: rows.map(toOut), total };
  }

  async create(input: CreateProxyRuleInput): Promise<ProxyRuleOut> {
    checkPattern(input.pattern, input.match_type);
    const row = await this.prisma.proxyRule.create({
      data: {
        pattern: input.pattern,
        matchType: input.match_type,
        priority: input.priority,
        enabled: input.enabled,
      },
    });
    await this.changed();
    return toOut(row);
  }

  async update(input: UpdateProxyRuleInput): Promise<ProxyRuleOut> {
    const current = await this.prisma.proxyRule.findUnique({ where: { id: input.id } });
    if (!current) throw new NotFoundError(NOT_FOUND);
    const pattern = input.pattern ?? current.pattern;
    const matchType = input.match_type ?? current.matchType;
    if (input.pattern !== undefined || input.match_type !== undefined) {
      checkPattern(pattern, matchType, input.pattern === undefined ? "match_type" : "pattern");
    }
    const data = {
      ...(input.pattern !== undefined && { pattern: input.pattern }),
      ...(input.match_type !== undefined && { matchType: input.match_type }),
      ...(input.priority !== undefined && { priority: input.priority }),
      ...(input.enabled !== undefined && { enabled: input.enabled }),
    };
    if (Object.keys(data).length === 0) return toOut(current);
    const { count } = await this.prisma.proxyRule.updateMany({ where: { id: input.id }, data });
    if (count === 0) throw new NotFoundError(NOT_FOUND);
    await this.changed();
    return toOut(await this.prisma.proxyRule.findUniqueOrThrow({ where: { id: input.id } }));
  }

  async delete(id: string): Promise<void> {
    const { count } = await this.prisma.proxyRule.deleteMany({ where: { id } });
    if (count === 0) throw new NotFoundError(NOT_FOUND);
    await this.changed();
  }

  /** Applies a change here before answering, then on every other instance. */
  private async changed(): Promise<void> {
    await this.rules.reload();
    await this.rules.publish();
  }
}

function checkPattern(pattern: string, matchType: RuleRow["matchType"], field = "pattern"): void {
  const problem = patternProblem(pattern, matchType);
  if (problem) throw ValidationError.field(["body", field], problem);
}
