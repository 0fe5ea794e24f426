// Lint: ESLint with typescript-eslint (pure JavaScript, so `npm ci` installs it from the registry alone).
// Formatting is Prettier's job (`npm run format`); `npm run lint` checks both.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

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
    files: ["test/**", "bench/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
