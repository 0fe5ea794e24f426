// The measuring engine (no Prisma, no tRPC): what the bench module's services use.
export * from "./types.js";
export { contextText, countContextTokens } from "./context.js";
export { scrubSecrets } from "./scrub.js";
export { defaultAdapters, type ProviderAdapter, type FetchFunction } from "./providers.js";
export {
  measureCall,
  costOf,
  describeCallError,
  CallCancelledError,
  type CallMeasurement,
} from "./measure.js";
export {
  runBenchmark,
  plannedResults,
  tierFits,
  skipReason,
  withHeartbeat,
  type BenchmarkOutcome,
} from "./runner.js";
export { aggregateResults, describe, type AggregateRow, type ConfidenceLabel } from "./stats.js";
export * from "./scoring.js";
export {
  runToolCase,
  type EvalCase,
  type EvalSettings,
  type Exchange,
  type FunctionTool,
  type ToolChoice,
  type ToolEvalResult,
} from "./toolcall.js";
export {
  dimensionValues,
  searchCombinations,
  type Combinations,
  type SearchDimension,
  type SearchSpace,
  type SearchValue,
} from "./tuning.js";
export {
  labelingQuestion,
  parseModelLabel,
  summarizeLabels,
  summarizeCrowd,
  isImageUrl,
  isGrid,
  type CrowdSummary,
  type LabelingItem,
  type LabelingShape,
  type LabelModelSummary,
  type LabelResult,
} from "./labeling.js";
export * from "./judge.js";
