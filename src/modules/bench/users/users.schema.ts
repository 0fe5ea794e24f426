// The wire contract of bench auth (/api/auth/*): LLM Benchmark Studio's shapes (bench-upstream-shapes.md).
import { z } from "zod";

export const PASSWORD_MIN_LENGTH = 8;

export const credentialsSchema = z.object({
  email: z
    .string({ error: "Valid email required" })
    .trim()
    .toLowerCase()
    .max(254, "Valid email required")
    .pipe(z.email("Valid email required")),
  password: z
    .string({ error: "Password must be at least 8 characters" })
    .min(PASSWORD_MIN_LENGTH, "Password must be at least 8 characters")
    .max(1024, "Password must be at most 1024 characters"),
});

/** Login checks the password against the stored hash only: no length rule (an old password still signs in). */
export const loginSchema = z.object({
  email: z.string({ error: "Valid email required" }).trim().toLowerCase().max(254),
  password: z.string({ error: "Password required" }).max(1024),
});

export const roleSchema = z.enum(["admin", "user"]);

export const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: roleSchema,
});

export const authAnswerSchema = z.object({
  user: userSchema,
  access_token: z.string().describe("JWT for `Authorization: Bearer`, valid 15 minutes"),
  token_type: z.literal("bearer"),
});

export const meSchema = z.object({ user: userSchema });

export const cliTokenSchema = z.object({
  token: z.string(),
  expires_in_days: z.literal(30),
  token_id: z.string().describe("Revoke it with DELETE /api/auth/cli-token?token_id="),
});

export const revokeCliTokenSchema = z
  .object({
    token_id: z.uuid().optional().describe("The token to revoke (default: every CLI token of the user)"),
  })
  .optional();

export const statusOkSchema = z.object({ status: z.literal("ok") });

export type Role = z.infer<typeof roleSchema>;
export type User = z.infer<typeof userSchema>;
