import { readFileSync } from "node:fs";
import { packagePath } from "./platform/paths.js";

/** The version from package.json, read once. */
export const VERSION: string = (
  JSON.parse(readFileSync(packagePath("package.json"), "utf8")) as { version: string }
).version;
