import { z } from "zod";
import type { Context } from "./context.js";

/**
 * Optional `limit` / `offset` of the dashboard lists whose documented answer is a bare JSON array (datasets,
 * API keys, proxy rules). Without `limit` the whole list is returned, as documented; either way the REST
 * answer carries the total in `X-Total-Count` (see `setTotalCount`), so the array shape never changes.
 * The whole object is optional so typed clients may still call `list()` with no input.
 */
export const listPageSchema = z
  .object({
    limit: z
      .int()
      .min(1)
      .max(1000)
      .describe("At most this many entries (default: all of them); the total is in the X-Total-Count header")
      .optional(),
    offset: z.int().min(0).default(0).describe("Skip this many entries first (default 0)"),
  })
  .optional();

export type ListPage = { limit?: number | undefined; offset?: number | undefined } | undefined;

/** A page of a list and the size of the whole list. */
export interface Paged<T> {
  rows: T[];
  total: number;
}

/** Prisma's `take`/`skip` for a list page. */
export const pageArgs = (page: ListPage) => ({ take: page?.limit, skip: page?.offset ?? 0 });

/** The header that carries the size of the whole list next to a page of it (bare-array answers). */
export const TOTAL_COUNT_HEADER = "x-total-count";

/**
 * A list procedure whose documented answer is a bare array returns the page's rows and puts the size of the
 * whole list in `X-Total-Count` (REST). GraphQL connections read the same value (see src/graphql/schema.ts),
 * so the total is computed once, by the service, whatever the transport.
 */
export function withTotalCount<T>(ctx: Context, page: { rows: T[]; total: number }): T[] {
  ctx.response.headers[TOTAL_COUNT_HEADER] = String(page.total);
  return page.rows;
}
