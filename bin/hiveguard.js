#!/usr/bin/env node
// The `hiveguard` command. The project runs its TypeScript directly through tsx (no build step to forget).
import { register } from "tsx/esm/api";

register();
await import("../clients/cli/main.ts");
