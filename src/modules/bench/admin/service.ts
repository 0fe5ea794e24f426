import type { PrismaClient } from "../../../generated/prisma/client.js";
import { AppError, NotFoundError } from "../../../platform/errors.js";
import type { UserPrincipal } from "../../../platform/auth.js";
import type { AuditLog, ClientInfo } from "./audit.js";

/** Per-user benchmark limits (admin-set; the runner enforces them). */
export interface RateLimits {
  benchmarksPerHour: number;
  maxConcurrent: number;
  maxRunsPerBenchmark: number;
}

/**
 * Defaults when an admin set nothing: upstream's global hourly limit (BENCHMARK_RATE_LIMIT, 2000), one
 * benchmark at a time per user, and the documented 1–20 runs bound.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  benchmarksPerHour: 2000,
  maxConcurrent: 1,
  maxRunsPerBenchmark: 20,
};

/**
 * What admin statistics need from the benchmark history (bench-runner's runs), plugged in with
 * `AdminService.setUsageSource`; until then every figure is 0.
 */
export interface BenchUsageSource {
  /** Benchmark runs started since `since` (all users, or one). */
  countRuns(options: { since?: Date; userId?: string }): Promise<number>;
  /** Runs per user since `since`, most first. */
  runsByUser(options: { since: Date; limit: number }): Promise<{ userId: string; count: number }[]>;
  /** Stored results: how many, and roughly how many bytes. */
  results(): Promise<{ count: number; bytes: number }>;
  /** Benchmarks running right now (on this instance). */
  active(): number;
}

const NO_USAGE: BenchUsageSource = {
  countRuns: async () => 0,
  runsByUser: async () => [],
  results: async () => ({ count: 0, bytes: 0 }),
  active: () => 0,
};

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 100) / 100;
const DAY_MS = 86_400_000;

/** Users, roles, deletions, per-user limits, usage statistics, system health and the audit log (admins only). */
export class AdminService {
  private usage: BenchUsageSource = NO_USAGE;

  constructor(private readonly deps: { prisma: PrismaClient; audit: AuditLog }) {}

  /** bench-runner plugs its runs in here (module create), so stats count real benchmarks. */
  setUsageSource(source: BenchUsageSource): void {
    this.usage = source;
  }

  async users() {
    const rows = await this.deps.prisma.benchUser.findMany({
      orderBy: { createdAt: "asc" },
      include: { _count: { select: { providerKeys: true } } },
    });
    const counts = await Promise.all(rows.map((row) => this.usage.countRuns({ userId: row.id })));
    return {
      users: rows.map((row, i) => ({
        id: row.id,
        email: row.email,
        role: row.role === "admin" ? ("admin" as const) : ("user" as const),
        created_at: row.createdAt.toISOString(),
        last_login: row.lastLoginAt?.toISOString() ?? null,
        benchmark_count: counts[i]!,
        key_count: row._count.providerKeys,
      })),
    };
  }

  async setRole(admin: UserPrincipal, userId: string, role: "admin" | "user", client: ClientInfo) {
    if (userId === admin.userId) throw new AppError("BAD_REQUEST", 400, "Cannot change your own role");
    const user = await this.user(userId);
    await this.deps.prisma.benchUser.update({ where: { id: userId }, data: { role } });
    await this.deps.audit.record({
      userId: admin.userId,
      action: "role_changed",
      resourceType: "user",
      resourceId: userId,
      detail: `${user.email}: ${user.role} → ${role}`,
      client,
    });
    return { status: "ok" as const };
  }

  /** Deletes a user and everything they own (cascade); the audit log keeps the entry. */
  async deleteUser(admin: UserPrincipal, userId: string, client: ClientInfo) {
    if (userId === admin.userId) throw new AppError("BAD_REQUEST", 400, "Cannot delete yourself");
    const user = await this.user(userId);
    await this.deps.prisma.benchUser.delete({ where: { id: userId } });
    await this.deps.audit.record({
      userId: admin.userId,
      action: "user_deleted",
      resourceType: "user",
      resourceId: userId,
      detail: user.email,
      client,
    });
    return { status: "ok" as const };
  }

  /** The limits the runner enforces for a user (admin-set values over the defaults). */
  async rateLimitFor(userId: string): Promise<RateLimits> {
    const user = await this.deps.prisma.benchUser.findUnique({
      where: { id: userId },
      select: { benchmarksPerHour: true, maxConcurrent: true, maxRunsPerBenchmark: true },
    });
    return {
      benchmarksPerHour: user?.benchmarksPerHour ?? DEFAULT_RATE_LIMITS.benchmarksPerHour,
      maxConcurrent: user?.maxConcurrent ?? DEFAULT_RATE_LIMITS.maxConcurrent,
      maxRunsPerBenchmark: user?.maxRunsPerBenchmark ?? DEFAULT_RATE_LIMITS.maxRunsPerBenchmark,
    };
  }

  async getRateLimits(userId: string) {
    await this.user(userId);
    return wireLimits(await this.rateLimitFor(userId));
  }

  async setRateLimits(
    admin: UserPrincipal,
    userId: string,
    limits: { benchmarks_per_hour?: number; max_concurrent?: number; max_runs_per_benchmark?: number },
    client: ClientInfo,
  ) {
    await this.user(userId);
    await this.deps.prisma.benchUser.update({
      where: { id: userId },
      data: {
        ...(limits.benchmarks_per_hour !== undefined && { benchmarksPerHour: limits.benchmarks_per_hour }),
        ...(limits.max_concurrent !== undefined && { maxConcurrent: limits.max_concurrent }),
        ...(limits.max_runs_per_benchmark !== undefined && {
          maxRunsPerBenchmark: limits.max_runs_per_benchmark,
        }),
      },
    });
    await this.deps.audit.record({
      userId: admin.userId,
      action: "rate_limit_changed",
      resourceType: "user",
      resourceId: userId,
      detail: JSON.stringify(limits),
      client,
    });
    return { status: "ok" as const };
  }

  async stats() {
    const now = Date.now();
    const { prisma } = this.deps;
    const [day, week, month, top, keys, totalUsers] = await Promise.all([
      this.usage.countRuns({ since: new Date(now - DAY_MS) }),
      this.usage.countRuns({ since: new Date(now - 7 * DAY_MS) }),
      this.usage.countRuns({ since: new Date(now - 30 * DAY_MS) }),
      this.usage.runsByUser({ since: new Date(now - 30 * DAY_MS), limit: 10 }),
      prisma.benchProviderKey.groupBy({
        by: ["providerKey"],
        _count: { userId: true },
        orderBy: { providerKey: "asc" },
      }),
      prisma.benchUser.count(),
    ]);
    const emails = new Map(
      (
        await prisma.benchUser.findMany({
          where: { id: { in: top.map((t) => t.userId) } },
          select: { id: true, email: true },
        })
      ).map((u) => [u.id, u.email]),
    );
    return {
      benchmarks_24h: day,
      benchmarks_7d: week,
      benchmarks_30d: month,
      top_users: top.map((t) => ({ username: emails.get(t.userId) ?? t.userId, cnt: t.count })),
      keys_by_provider: keys.map((k) => ({ provider: k.providerKey, user_count: k._count.userId })),
      total_users: totalUsers,
    };
  }

  async system() {
    const [size] = await this.deps.prisma.$queryRawUnsafe<{ bytes: number }[]>(
      "SELECT pg_database_size(current_database())::float8 AS bytes",
    );
    const results = await this.usage.results();
    return {
      db_size_mb: mb(Number(size?.bytes ?? 0)),
      results_size_mb: mb(results.bytes),
      results_count: results.count,
      benchmark_active: this.usage.active(),
      process_uptime_s: Math.round(process.uptime()),
    };
  }

  async audit(query: { user?: string; action?: string; since?: string; limit: number; offset: number }) {
    const user = query.user?.trim();
    const rows = await this.deps.prisma.benchAuditEvent.findMany({
      where: {
        ...(user &&
          (/^[0-9a-f-]{36}$/i.test(user)
            ? { userId: user }
            : { username: { contains: user.toLowerCase(), mode: "insensitive" as const } })),
        ...(query.action && { action: query.action }),
        ...(query.since && { timestamp: { gte: new Date(query.since) } }),
      },
      orderBy: [{ timestamp: "desc" }, { id: "desc" }],
      take: query.limit,
      skip: query.offset,
    });
    // Entries written without a username (by id only) show the user's current email.
    const ids = [...new Set(rows.filter((r) => !r.username && r.userId).map((r) => r.userId!))];
    const emails = new Map(
      (
        await this.deps.prisma.benchUser.findMany({
          where: { id: { in: ids } },
          select: { id: true, email: true },
        })
      ).map((u) => [u.id, u.email]),
    );
    return {
      entries: rows.map((row) => ({
        id: Number(row.id),
        timestamp: row.timestamp.toISOString(),
        user_id: row.userId,
        username: row.username ?? (row.userId ? (emails.get(row.userId) ?? null) : null),
        action: row.action,
        resource_type: row.resourceType,
        resource_id: row.resourceId,
        detail: row.detail,
        ip_address: row.ipAddress,
        user_agent: row.userAgent,
      })),
    };
  }

  private async user(userId: string) {
    const user = await this.deps.prisma.benchUser.findUnique({ where: { id: userId } });
    if (!user) throw new NotFoundError("User not found");
    return user;
  }
}

function wireLimits(limits: RateLimits) {
  return {
    benchmarks_per_hour: limits.benchmarksPerHour,
    max_concurrent: limits.maxConcurrent,
    max_runs_per_benchmark: limits.maxRunsPerBenchmark,
  };
}
