import type { FastifyBaseLogger } from "fastify";
import type { PrismaClient } from "../../../generated/prisma/client.js";

/** Where a request came from, for the audit log. */
export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

export type AuditAction =
  | "register"
  | "login"
  | "login_failed"
  | "login_locked"
  | "logout"
  | "refresh_token_reuse"
  | "cli_token_created"
  | "cli_token_revoked"
  | "provider_key_set"
  | "provider_key_deleted"
  | "env_key_set"
  | "env_key_deleted"
  | "role_changed"
  | "user_deleted"
  | "rate_limit_changed"
  | "settings_imported";

export interface AuditEntry {
  userId?: string | null;
  username?: string | null;
  action: AuditAction;
  resourceType?: string;
  resourceId?: string;
  detail?: string;
  client?: ClientInfo;
}

/**
 * The bench audit log: who did what, when, from where. Writing it never fails the request it describes (a
 * failed write is logged, without the entry's detail).
 */
export class AuditLog {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly log: FastifyBaseLogger,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.prisma.benchAuditEvent.create({
        data: {
          userId: entry.userId ?? null,
          username: entry.username ?? null,
          action: entry.action,
          resourceType: entry.resourceType ?? null,
          resourceId: entry.resourceId ?? null,
          detail: entry.detail?.slice(0, 1000) ?? null,
          ipAddress: entry.client?.ip?.slice(0, 64) ?? null,
          userAgent: entry.client?.userAgent?.slice(0, 512) ?? null,
        },
      });
    } catch (error) {
      this.log.warn({ err: error, action: entry.action }, "bench audit entry not written");
    }
  }
}
