import { safeEqual } from "../../../platform/auth.js";
import { ValidationError, type ValidationIssue } from "../../../platform/errors.js";
import { type ChallengeType, GRID_TYPES } from "../shared.schema.js";
import { type Answer, GRID_CELLS } from "./challenge.schema.js";

/** What a submitted answer has to fit: the item's challenge type and its dataset's choices. */
export interface AnswerShape {
  type: ChallengeType;
  choices: string[];
}

/**
 * The canonical form every answer is stored and compared in: for grid types the JSON of the sorted,
 * de-duplicated index list (so order and repeats do not matter); for classify types the matching choice
 * as the dataset spells it (case and surrounding spaces do not matter), or, for a dataset without
 * choices, the trimmed, case-folded text. Returns an error message when the answer does not fit.
 */
export function canonicalAnswer(answer: Answer, shape: AnswerShape): { value: string } | { error: string } {
  if (GRID_TYPES.has(shape.type)) {
    if (!Array.isArray(answer)) return { error: `${shape.type} answers are a list of cell indices` };
    if (answer.some((cell) => cell < 0 || cell >= GRID_CELLS))
      return { error: `cell indices are 0 to ${GRID_CELLS - 1}` };
    return { value: JSON.stringify([...new Set(answer)].sort((a, b) => a - b)) };
  }
  if (Array.isArray(answer)) return { error: `${shape.type} answers are a string` };
  const folded = fold(answer);
  if (folded === "") return { error: "must not be empty" };
  if (shape.choices.length === 0) return { value: folded };
  const choice = shape.choices.find((candidate) => fold(candidate) === folded);
  return choice === undefined ? { error: `must be one of: ${shape.choices.join(", ")}` } : { value: choice };
}

/** The canonical form of a stored ground truth or label (string, or list of indices). */
export function canonicalStored(value: unknown, shape: AnswerShape): string | null {
  if (Array.isArray(value) || typeof value === "string") {
    const result = canonicalAnswer(value as Answer, shape);
    return "value" in result ? result.value : null;
  }
  return null;
}

/** The stored (JSON) form of a canonical answer: a string, or the list of indices. */
export function storedAnswer(canonical: string, type: ChallengeType): string | number[] {
  return GRID_TYPES.has(type) ? (JSON.parse(canonical) as number[]) : canonical;
}

/** Compares in constant time, so how long a check takes says nothing about how close the answer was. */
export function sameAnswer(a: string, b: string): boolean {
  return safeEqual(a, b);
}

function fold(text: string): string {
  return text.normalize("NFKC").trim().toLowerCase();
}

export function answerIssue(index: number, msg: string): ValidationIssue {
  return { loc: ["body", "responses", index, "answer"], msg, type: "value_error" };
}

export function throwIfIssues(issues: ValidationIssue[]): void {
  if (issues.length > 0) throw new ValidationError(issues);
}
