// Builds the dashboard SPA into clients/dashboard/dist, served by the server at /dashboard (no CDN).
// Preact's JSX runs through Vite's own transformer (Oxc): no Babel, no framework plugin.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/dashboard/",
  logLevel: "warn",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  resolve: { alias: { react: "preact/compat", "react-dom": "preact/compat" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npx vite clients/dashboard` while `npm run dev` runs: API calls go to the server.
    proxy: {
      "/graphql": "http://localhost:8000",
      "/dashboard/login": "http://localhost:8000",
      "/dashboard/logout": "http://localhost:8000",
      "/dashboard/session": "http://localhost:8000",
      "/dashboard/api": "http://localhost:8000",
      // Every REST path the pages call: /api/v1 (lab) and the bench paths (/api/auth, /api/config, ...).
      "/api": "http://localhost:8000",
    },
  },
});
