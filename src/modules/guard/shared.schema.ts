import { z } from "zod";

export const MODALITIES = ["image", "text", "audio"] as const;
export const CHALLENGE_TYPES = ["image", "text", "audio", "grid_select", "select_all"] as const;
/** Challenge types whose answers are sorted lists of indices (image grids). */
export const GRID_TYPES: ReadonlySet<string> = new Set(["grid_select", "select_all"]);

export const modalitySchema = z.enum(MODALITIES).meta({ id: "Modality" });
export const challengeTypeSchema = z.enum(CHALLENGE_TYPES).meta({ id: "ChallengeType" });
export type Modality = z.infer<typeof modalitySchema>;
export type ChallengeType = z.infer<typeof challengeTypeSchema>;

/**
 * Any well-formed UUID (8-4-4-4-12 hex). Deliberately not version-checked: a well-formed id that names
 * nothing is a 404, a malformed one a 422.
 */
export const uuidSchema = z.guid({ error: "must be a UUID" });

export const idParamSchema = z.object({ id: uuidSchema.describe("Id") });

/** `limit` / `offset` of the public list endpoints (coerced from the query string by the REST facade). */
export const pagingSchema = z.object({
  limit: z.int().min(1).max(1000).default(100).describe("Items per page (max 1000)"),
  offset: z.int().min(0).default(0).describe("Pagination offset"),
});

export const deletedSchema = z.object({ id: z.string(), deleted: z.literal(true) }).meta({ id: "Deleted" });

/** Whether a challenge type may be used with a modality (classify types match it; grids need images). */
export function challengeTypeFits(type: ChallengeType, modality: Modality): boolean {
  return GRID_TYPES.has(type) ? modality === "image" : type === modality;
}

export const isoDate = (date: Date) => date.toISOString();

/** Timestamps on the wire (shared by every module: src/trpc/scalars.ts). */
export { timestampSchema } from "../../trpc/scalars.js";
