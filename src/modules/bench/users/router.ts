import { z } from "zod";
import { publicProcedure, router, userProcedure } from "../../../trpc/init.js";
import { clientOf, TAGS } from "../shared/procedures.js";
import { clearedRefreshCookie, refreshCookie, refreshTokenOf, type SignedIn } from "./auth.service.js";
import {
  authAnswerSchema,
  cliTokenSchema,
  credentialsSchema,
  loginSchema,
  meSchema,
  revokeCliTokenSchema,
  statusOkSchema,
} from "./users.schema.js";
import type { Context } from "../../../trpc/context.js";

const tags = [...TAGS.auth];
const hidden = { hidden: true };

/** The body of a sign-in answer; the refresh token goes into the HttpOnly cookie. */
function answer(ctx: Context, signedIn: SignedIn) {
  ctx.response.headers["set-cookie"] = refreshCookie(signedIn.refreshToken, ctx.req.protocol === "https");
  return { user: signedIn.user, access_token: signedIn.access_token, token_type: signedIn.token_type };
}

export const authRouter = router({
  register: publicProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/auth/register",
        tags,
        summary: "Create an account (the first one becomes admin); sets the refresh-token cookie",
        errorResponses: { 409: "Email already registered" },
      },
      graphql: hidden,
    })
    .input(credentialsSchema)
    .output(authAnswerSchema)
    .mutation(async ({ ctx, input }) =>
      answer(ctx, await ctx.deps.services.benchAuth.register(input.email, input.password, clientOf(ctx))),
    ),

  login: publicProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/auth/login",
        tags,
        summary: "Sign in; sets the refresh-token cookie",
        description:
          "5 failed attempts per client IP within 5 minutes lock it out for 15 minutes (429 with Retry-After).",
        errorResponses: { 401: "Invalid email or password", 429: "Too many login attempts" },
      },
      graphql: hidden,
    })
    .input(loginSchema)
    .output(authAnswerSchema)
    .mutation(async ({ ctx, input }) =>
      answer(ctx, await ctx.deps.services.benchAuth.login(input.email, input.password, clientOf(ctx))),
    ),

  refresh: publicProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/auth/refresh",
        tags,
        summary: "New access token from the refresh-token cookie (the cookie is rotated)",
        description:
          "The refresh token is spent: the answer sets a new one. Presenting a spent token again revokes every token of its sign-in (theft detection).",
        errorResponses: { 401: "No, invalid, expired or revoked refresh token" },
      },
      graphql: hidden,
    })
    .input(z.void())
    .output(authAnswerSchema)
    .mutation(async ({ ctx }) =>
      answer(
        ctx,
        await ctx.deps.services.benchAuth.refresh(refreshTokenOf(ctx.req.headers.cookie), clientOf(ctx)),
      ),
    ),

  logout: publicProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/auth/logout",
        tags,
        summary: "Revoke the refresh-token cookie's session and clear it",
      },
      graphql: hidden,
    })
    .input(z.void())
    .output(statusOkSchema)
    .mutation(async ({ ctx }) => {
      await ctx.deps.services.benchAuth.logout(refreshTokenOf(ctx.req.headers.cookie), clientOf(ctx));
      ctx.response.headers["set-cookie"] = clearedRefreshCookie(ctx.req.protocol === "https");
      return { status: "ok" as const };
    }),

  me: userProcedure
    .meta({ openapi: { method: "GET", path: "/api/auth/me", tags, summary: "The signed-in user" } })
    .input(z.void())
    .output(meSchema)
    .query(async ({ ctx }) => ({ user: await ctx.deps.services.benchAuth.me(ctx.principal.userId) })),

  cliToken: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/auth/cli-token",
        tags,
        summary: "A 30-day bearer token for scripts (revocable)",
      },
    })
    .input(z.void())
    .output(cliTokenSchema)
    .mutation(async ({ ctx }) => ({
      ...(await ctx.deps.services.benchAuth.createCliToken(ctx.principal, clientOf(ctx))),
      expires_in_days: 30 as const,
    })),

  revokeCliToken: userProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/auth/cli-token",
        tags,
        summary: "Revoke one CLI token (token_id) or all of the user's",
      },
    })
    .input(revokeCliTokenSchema)
    .output(statusOkSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.services.benchAuth.revokeCliTokens(ctx.principal.userId, input?.token_id, clientOf(ctx));
      return { status: "ok" as const };
    }),
});
