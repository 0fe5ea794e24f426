// LLMs scored against the crowd: the question a model is asked about one item of a guard dataset, how its
// answer is read back into the dataset's canonical label form, and the figures of a run — the model's (accuracy
// against the consensus label, agreement weighted by the label's confidence, cost per 1,000 labels, speed) and
// the crowd's own (its voters' record on ground-truth items, its votes' agreement with the consensus).

const GRID_TYPES = new Set(["grid_select", "select_all"]);
const GRID_CELLS = 9;

/** What a labeling suite knows of its dataset. */
export interface LabelingShape {
  modality: string;
  challengeType: string;
  prompt: string | null;
  choices: readonly string[];
}

/** One item of a labeling suite: a finalized label as the guard exports it. */
export interface LabelingItem {
  item_id: string;
  data_ref: string;
  modality: string;
  /** Canonical consensus label: the class as the dataset spells it, or the JSON of sorted cell indices. */
  label: string;
  confidence: number;
  solver_count: number;
}

export interface LabelingQuestion {
  system: string;
  prompt: string;
  /** The image's URL (http(s) or data:) for image items: sent as the provider's image input. */
  image?: string;
}

export const isGrid = (shape: Pick<LabelingShape, "challengeType">) => GRID_TYPES.has(shape.challengeType);

/** http(s) and data: references can be sent to a provider as an image; anything else cannot. */
export const isImageUrl = (ref: string) =>
  /^(https?:\/\/\S+|data:image\/[a-z0-9.+-]+;base64,\S+)$/i.test(ref);

/** The question one item asks a model (the dataset's own prompt, then how to answer). */
export function labelingQuestion(shape: LabelingShape, item: LabelingItem): LabelingQuestion {
  const task = shape.prompt?.trim() || (item.modality === "image" ? "Label this image." : "Label this text.");
  const how = isGrid(shape)
    ? `The image is a 3 x 3 grid; its cells are numbered 0 to 8, left to right, top to bottom. Answer with the ` +
      `numbers of the matching cells, comma-separated, or "none".`
    : shape.choices.length > 0
      ? `Answer with exactly one of: ${shape.choices.join(", ")}.`
      : "Answer with the label only.";
  const system =
    "You label data for a dataset, as the people who label it do. Reply with the answer only: no explanation.";
  if (item.modality === "image") return { system, prompt: `${task}\n${how}`, image: item.data_ref };
  return { system, prompt: `${task}\n${how}\n\nText:\n${item.data_ref}` };
}

const fold = (text: string) => text.normalize("NFKC").trim().toLowerCase();

/**
 * A model's reply in the dataset's canonical label form, or null when it names no valid answer. Lenient the
 * way a reader is: case, quotes, a trailing period, an "Answer:" prefix, or the one choice named in a sentence.
 */
export function parseModelLabel(text: string, shape: LabelingShape): string | null {
  if (isGrid(shape)) {
    const cells = [...text.matchAll(/\d+/g)].map((m) => Number(m[0]));
    if (cells.length === 0) return /\bnone\b/i.test(text) ? "[]" : null;
    if (cells.some((cell) => cell >= GRID_CELLS)) return null;
    return JSON.stringify([...new Set(cells)].sort((a, b) => a - b));
  }
  const cleaned = fold(text)
    .replace(/^(answer|label)\s*:\s*/, "")
    .replace(/^["'`*\s]+|["'`*.!\s]+$/g, "");
  if (cleaned === "") return null;
  if (shape.choices.length === 0) return cleaned;
  const exact = shape.choices.find((choice) => fold(choice) === cleaned);
  if (exact !== undefined) return exact;
  const words = (s: string) => s.split(/[^\p{L}\p{N}_-]+/u).filter(Boolean);
  const said = new Set(words(cleaned));
  const named = shape.choices.filter((choice) => {
    const w = words(fold(choice));
    return w.length > 0 && w.every((word) => said.has(word));
  });
  return named.length === 1 ? named[0]! : null;
}

/** One item labeled by one model (the `label_result` event). */
export interface LabelResult {
  type: "label_result";
  model_id: string;
  model_name: string;
  provider: string;
  provider_key: string;
  item_id: string;
  /** The consensus label. */
  expected: string;
  /** The model's answer in canonical form; null when the call failed or the reply named no valid answer. */
  answer: string | null;
  /** The reply as received (at most 200 characters). */
  raw_answer: string;
  correct: boolean;
  confidence: number;
  success: boolean;
  error: string | null;
  latency_ms: number;
  input_tokens: number;
  output_tokens: number;
  cost: number;
}

/** A model's figures over a run (the `model_summary` event without its type). */
export interface LabelModelSummary {
  model_id: string;
  model_name: string;
  provider: string;
  provider_key: string;
  items: number;
  /** Calls that returned a reply (a reply naming no valid answer counts here, and as wrong). */
  answered: number;
  errors: number;
  correct: number;
  /** correct / items: a failed call counts as a wrong label. */
  accuracy: number;
  /** Σ confidence of the correctly labeled items / Σ confidence of all items. */
  weighted_agreement: number;
  cost_total: number;
  /** cost_total / answered × 1000; null when nothing was answered. */
  cost_per_1k_labels: number | null;
  avg_latency_ms: number | null;
  /** answered / (Σ latency of the answered calls in minutes): one call at a time. */
  labels_per_minute: number | null;
  input_tokens: number;
  output_tokens: number;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export function summarizeLabels(
  results: readonly LabelResult[],
): Omit<LabelModelSummary, "model_id" | "model_name" | "provider" | "provider_key"> {
  const answered = results.filter((r) => r.success);
  const correct = results.filter((r) => r.correct);
  const weight = results.reduce((sum, r) => sum + r.confidence, 0);
  const cost = results.reduce((sum, r) => sum + r.cost, 0);
  const latency = answered.reduce((sum, r) => sum + r.latency_ms, 0);
  return {
    items: results.length,
    answered: answered.length,
    errors: results.length - answered.length,
    correct: correct.length,
    accuracy: results.length ? round(correct.length / results.length, 4) : 0,
    weighted_agreement: weight > 0 ? round(correct.reduce((sum, r) => sum + r.confidence, 0) / weight, 4) : 0,
    cost_total: round(cost, 8),
    cost_per_1k_labels: answered.length ? round((cost / answered.length) * 1000, 6) : null,
    avg_latency_ms: answered.length ? round(latency / answered.length, 1) : null,
    labels_per_minute: latency > 0 ? round(answered.length / (latency / 60_000), 2) : null,
    input_tokens: results.reduce((sum, r) => sum + r.input_tokens, 0),
    output_tokens: results.reduce((sum, r) => sum + r.output_tokens, 0),
  };
}

/** The crowd's figures beside the models' (the `crowd_summary` event without its type). */
export interface CrowdSummary {
  items: number;
  /** Mean consensus confidence of the items (how much the voters agreed with each other). */
  mean_confidence: number;
  /** Distinct people who voted on the items. */
  solvers: number;
  votes: number;
  /** Votes that match the item's consensus label / votes: one person's answer scored as a model's is. */
  vote_agreement: number | null;
  /** Those voters' answers on ground-truth (gold) items: right and all, over their history. */
  gt_correct: number;
  gt_total: number;
  /** gt_correct / gt_total: the crowd's own agreement with ground truth. */
  gt_accuracy: number | null;
}

export function summarizeCrowd(
  items: readonly LabelingItem[],
  record: {
    votes: readonly { item_id: string; answer: string }[];
    solvers: number;
    gt_correct: number;
    gt_total: number;
  },
): CrowdSummary {
  const labelOf = new Map(items.map((item) => [item.item_id, item.label]));
  const counted = record.votes.filter((vote) => labelOf.has(vote.item_id));
  const agreeing = counted.filter((vote) => labelOf.get(vote.item_id) === vote.answer).length;
  return {
    items: items.length,
    mean_confidence: items.length
      ? round(items.reduce((sum, item) => sum + item.confidence, 0) / items.length, 4)
      : 0,
    solvers: record.solvers,
    votes: counted.length,
    vote_agreement: counted.length ? round(agreeing / counted.length, 4) : null,
    gt_correct: record.gt_correct,
    gt_total: record.gt_total,
    gt_accuracy: record.gt_total ? round(record.gt_correct / record.gt_total, 4) : null,
  };
}
