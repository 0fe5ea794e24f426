// `npm run perf -- <name> [args]`: runs every benchmark whose name starts with <name> (all without one).
// Each benchmark prints its own figures as ratios against a reference measured in the same run.
// A module exports `default(args)` or `run()`, or does its work when imported.
// Each benchmark's tools and services are checked before it starts (perf/tools.ts): a missing one skips
// that benchmark with the command that installs it, and the run ends with exit code 1.
import { missing, type Needs, NGINX, PSQL, WRK } from "./tools.js";

type Bench = { default?: (args: string[]) => Promise<void>; run?: () => Promise<void> };

const BENCHMARKS: Record<string, () => Promise<Bench>> = {
  bench: () => import("./bench.js"),
  "guard-export": () => import("./guard-export.js"),
  "guard-upload": () => import("./guard-upload.js"),
  challenge: () => import("./challenge.js"),
  lab: () => import("./lab.js"),
  ml: () => import("./ml.js"),
  proxy: () => import("./proxy.js"),
  tracking: () => import("./tracking.js"),
  // Not part of "all benchmarks" (10 minutes): only when named.
  soak: () => import("./soak.js"),
};

/** What each benchmark needs besides Node (challenge and tracking use embedded defaults without URLs). */
const NEEDS: Record<string, Needs> = {
  "guard-export": { tools: [PSQL], services: ["postgres"] },
  "guard-upload": { services: ["postgres"] },
  // python3-sklearn is checked by the lab benchmark itself: without it, the upload figures still run.
  lab: {},
  ml: { services: ["postgres"] },
  proxy: { tools: [WRK, NGINX], services: ["postgres", "redis"] },
  soak: { services: ["postgres", "redis"] },
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
const skipped: string[] = [];
for (const name of names) {
  console.log(`\n=== ${name}`);
  const lacking = await missing(NEEDS[name] ?? {});
  if (lacking.length > 0) {
    lacking.forEach((line, i) => console.log(i === 0 ? `  SKIPPED: ${line}` : `  ${line}`));
    skipped.push(name);
    continue;
  }
  const bench = await BENCHMARKS[name]!();
  if (bench.default) await bench.default(args);
  else await bench.run?.();
}
if (skipped.length > 0) {
  console.log(`\nNot run: ${skipped.join(", ")} (what is missing is named above).`);
  process.exit(1);
}
process.exit(0);
