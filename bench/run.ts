// `npm run bench -- <name> [args]`: runs every benchmark whose name starts with <name> (all without one).
// Each benchmark prints its own figures as ratios against a reference measured in the same run.
// A module exports `default(args)` or `run()`, or does its work when imported.
type Bench = { default?: (args: string[]) => Promise<void>; run?: () => Promise<void> };

const BENCHMARKS: Record<string, () => Promise<Bench>> = {
  "guard-export": () => import("./guard-export.js"),
  "guard-upload": () => import("./guard-upload.js"),
  challenge: () => import("./challenge.js"),
  ml: () => import("./ml.js"),
  proxy: () => import("./proxy.js"),
  tracking: () => import("./tracking.js"),
  // Not part of "all benchmarks" (10 minutes): only when named.
  soak: () => import("./soak.js"),
};

const [wanted, ...args] = process.argv.slice(2);
const ON_REQUEST_ONLY = new Set(["soak"]);
const names = Object.keys(BENCHMARKS).filter((name) =>
  wanted ? name.startsWith(wanted) : !ON_REQUEST_ONLY.has(name),
);
if (names.length === 0) {
  console.error(`No benchmark matches "${wanted}". Known: ${Object.keys(BENCHMARKS).join(", ")}`);
  process.exit(2);
}
for (const name of names) {
  console.log(`\n=== ${name}`);
  const bench = await BENCHMARKS[name]!();
  if (bench.default) await bench.default(args);
  else await bench.run?.();
}
process.exit(0);
