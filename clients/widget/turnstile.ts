/// <reference lib="dom" />
// Cloudflare Turnstile drop-in: replace `https://challenges.cloudflare.com/turnstile/v0/api.js` with
// `https://<hiveguard>/_hiveguard/turnstile.js` and the site key. `window.turnstile` (render, execute, reset,
// remove, getResponse, isExpired, ready), `.cf-turnstile` containers, the `cf-turnstile-response` field
// (`response-field`, `response-field-name`), `onload` and `render=explicit`. docs/migrate-turnstile.md.
import { install, type Params } from "./compat.js";

install({
  global: "turnstile",
  className: "cf-turnstile",
  numericIds: false,
  textarea: false,
  refreshExpired: "auto",
  fields: (params: Params) => {
    const field = params["response-field"];
    if (field === false || field === "false") return [];
    const name = params["response-field-name"];
    return [typeof name === "string" && name ? name : "cf-turnstile-response"];
  },
  extras: (_api, widgets) => ({
    isExpired: (id?: string) => {
      const widget = id === undefined ? widgets.values().next().value : widgets.get(String(id));
      return widget?.handle?.expired() ?? false;
    },
    ready: (callback: () => void) => {
      if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", callback);
      else callback();
    },
    implicitRender: () => undefined,
  }),
});
