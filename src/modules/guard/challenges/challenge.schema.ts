import { z } from "zod";
import { challengeTypeSchema, modalitySchema } from "../shared.schema.js";

/** Grid challenges (grid_select, select_all) split the item's image into this many rows and columns. */
export const GRID_ROWS = 3;
export const GRID_COLS = 3;
export const GRID_CELLS = GRID_ROWS * GRID_COLS;

/**
 * Slots by position. A challenge holds its ground-truth items (one or more, composed under max_guess_rate)
 * and at most one unknown item: at most MAX_GT_ITEMS + 1 = 9 items.
 */
export const SLOTS = ["a", "b", "c", "d", "e", "f", "g", "h", "i"] as const;
export type Slot = (typeof SLOTS)[number];

export const BYPASS_HEADER = "X-HiveGuard-Bypass";

export const generateQuerySchema = z
  .object({
    modality: modalitySchema
      .optional()
      .describe("Prefer this modality; another one is used when it has no ground-truth items"),
  })
  .strict();

export const generatePathSchema = z
  .object({
    modality: modalitySchema.describe("Prefer this modality; falls back like the query parameter"),
  })
  .strict();

export const challengeItemSchema = z
  .object({
    id: z.string().describe("Opaque id of the item in this challenge only (not the database id)"),
    slot: z.enum(SLOTS).describe("Position of the item in the challenge; submit accepts it as item_id"),
    data_ref: z.string(),
    modality: modalitySchema,
    prompt: z.string().nullable(),
    challenge_type: challengeTypeSchema,
    choices: z
      .array(z.string())
      .describe("Allowed answers of classify items; empty for grid types and free-text answers"),
    grid: z
      .object({ rows: z.int(), cols: z.int() })
      .nullable()
      .describe("Grid types: the image is split into rows × cols cells, numbered row by row from 0"),
  })
  .meta({ id: "ChallengeItem" });

export const challengeSchema = z
  .object({
    challenge_id: z.string(),
    items: z
      .array(challengeItemSchema)
      .describe(
        "In random order; which ones are ground truth is never said (one or more ground-truth items, at most one unknown item)",
      ),
    expires_at: z.string().describe("ISO 8601; a submit after this fails"),
  })
  .meta({ id: "Challenge" });

export const answerSchema = z
  .union([
    z.string().min(1).max(200),
    z
      .array(
        z
          .int()
          .min(0)
          .max(GRID_CELLS - 1),
      )
      .max(GRID_CELLS),
  ])
  .describe("A string for classify items; a list of cell indices (any order) for grid items");

export const submitSchema = z
  .object({
    challenge_id: z.string().min(1).max(100),
    responses: z
      .array(
        z
          .object({
            item_id: z.string().min(1).max(100).describe("The item's id or its slot"),
            answer: answerSchema,
          })
          .strict(),
      )
      .min(1)
      .max(SLOTS.length),
  })
  .strict()
  .meta({ id: "ChallengeSubmit" });

export const submitResultSchema = z
  .object({
    passed: z.boolean(),
    token: z.string().nullable().describe("JWT to present as cookie hiveguard_token or X-HiveGuard-Token"),
  })
  .meta({ id: "ChallengeResult" });

export type ChallengeOut = z.infer<typeof challengeSchema>;
export type ChallengeItemOut = z.infer<typeof challengeItemSchema>;
export type SubmitInput = z.infer<typeof submitSchema>;
export type SubmitResult = z.infer<typeof submitResultSchema>;
export type Answer = z.infer<typeof answerSchema>;
