#!/usr/bin/env node
// The `hiveguard` command (and `npm start`): runs the compiled CLI from dist/, built at install
// (`npm run build`). In a development checkout whose TypeScript changed since that build, it runs the sources
// through tsx instead, so an outdated build never runs by mistake (`npm run build` makes it fast again).
import { fileURLToPath } from "node:url";
import { compiledIsCurrent } from "./compiled.js";

if (compiledIsCurrent(fileURLToPath(new URL("..", import.meta.url)))) {
  await import("../dist/clients/cli/main.js");
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../clients/cli/main.ts");
}
