/** Whether dist/ exists and no TypeScript source under `root` is newer than its finished build. */
export function compiledIsCurrent(root: string): boolean;
