// `npm run bench -- <name>` runs bench/<name>.ts (each benchmark starts and cleans up what it needs).
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const available = readdirSync(dir)
  .filter((file) => file.endsWith(".ts") && file !== "run.ts" && !file.startsWith("_"))
  .map((file) => file.slice(0, -3));
const name = process.argv[2];
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${available.join("|")}> [options]\n`);
  process.exit(2);
}
const module = (await import(pathToFileURL(`${dir}${name}.ts`).href)) as {
  main(args: string[]): Promise<void>;
};
await module.main(process.argv.slice(3));
