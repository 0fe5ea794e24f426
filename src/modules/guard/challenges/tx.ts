import type { PrismaClient } from "../../../generated/prisma/client.js";

/** The client handed to an interactive transaction's callback. */
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/** Rounds away floating-point noise (0.67 + 3 × 0.05 is 0.82, not 0.8200000000000001). */
export const round = (value: number, digits: number) => Number(value.toFixed(digits));
