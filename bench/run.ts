// `npm run bench -- <name>`: runs every benchmark whose name starts with <name> (all of them without one).
// Add an entry here for each new benchmark file; each module exports `run(): Promise<void>` or runs on import.
const BENCHMARKS: Record<string, () => Promise<{ run?(): Promise<void> }>> = {
  "guard-export": () => import("./guard-export.js"),
  "guard-upload": () => import("./guard-upload.js"),
  tracking: () => import("./tracking.js"),
};

const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
const names = Object.keys(BENCHMARKS).filter(
  (name) => wanted.length === 0 || wanted.some((prefix) => name.startsWith(prefix)),
);
if (names.length === 0) {
  console.error(`No benchmark matches ${wanted.join(", ")}. Known: ${Object.keys(BENCHMARKS).join(", ")}`);
  process.exit(2);
}
for (const name of names) {
  console.log(`\n=== ${name}`);
  const bench = await BENCHMARKS[name]!();
  await bench.run?.();
}
process.exit(0);
