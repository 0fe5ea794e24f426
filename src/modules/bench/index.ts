// What other modules may use of bench (the ESLint boundary): the secret box its provider keys are sealed
// with, and a bench user's provider model resolved for a call (lab's generative sessions).
export { lastFourOf, SecretBox } from "./shared/secret-box.js";
export type { ResolvedModel } from "./providers/service.js";
