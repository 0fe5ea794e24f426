// Lint: ESLint with typescript-eslint (pure JavaScript, so `npm ci` installs it from the registry alone).
// Formatting is Prettier's job (`npm run format`); `npm run lint` checks both.
import { readdirSync } from "node:fs";
import js from "@eslint/js";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import importX from "eslint-plugin-import-x";
import globals from "globals";
import tseslint from "typescript-eslint";

// Module boundaries (docs/architecture.md): a module reaches another only through that module's index.ts.
// The modules are the folders of src/modules, so a new module is checked without editing this file.
const MODULES = readdirSync(new URL("./src/modules/", import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const crossModuleZones = MODULES.flatMap((module) =>
  MODULES.filter((other) => other !== module).map((other) => ({
    target: `./src/modules/${module}`,
    from: `./src/modules/${other}`,
    except: ["./index.ts"],
    message: `modules reach ${other} only through src/modules/${other}/index.ts`,
  })),
);

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "dist/",
      "coverage/",
      "src/generated/",
      "migrations/",
      "clients/dashboard/dist/",
      ".hiveguard/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "warn",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      eqeqeq: ["error", "smart"],
      "no-console": "off",
    },
  },
  {
    // The layers and the module boundaries, checked in CI (`npm run lint`).
    files: ["src/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".js"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/resolver-next": [createTypeScriptImportResolver()],
    },
    rules: {
      "import-x/no-cycle": "error",
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            { target: "./src", from: "./clients", message: "server code never imports clients/" },
            {
              target: "./src/platform",
              from: ["./src/modules", "./src/trpc", "./src/graphql"],
              message: "platform/ knows no module and no transport",
            },
            {
              target: ["./src/trpc/!(router).ts", "./src/graphql"],
              from: "./src/modules",
              message: "the tRPC and GraphQL core name no module (only trpc/router.ts composes them)",
            },
            ...crossModuleZones,
            ...MODULES.map((module) => ({
              target: `./src/modules/${module}/engine`,
              from: "./src",
              except: [`./modules/${module}/engine`],
              message: "engine/ is pure code: it imports nothing outside its own folder",
            })),
          ],
        },
      ],
    },
  },
  {
    // A module's engine/ is pure code (the lab's ML engine): no database, no transport, nothing outside
    // its own folder.
    files: ["src/modules/*/engine/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@prisma/*", "@trpc/*", "fastify", "@fastify/*", "trpc-to-openapi"],
              message: "engine/ is pure code: it imports neither Prisma, tRPC nor Fastify",
            },
          ],
        },
      ],
    },
  },
  {
    // Browser scripts served as they are (no build step).
    files: ["src/modules/*/static/**/*.js"],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // The dashboard SPA (built by Vite for the browser).
    files: ["clients/dashboard/src/**"],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ["test/**", "perf/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
