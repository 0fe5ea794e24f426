/// <reference lib="dom" />
// reCAPTCHA v2 drop-in (checkbox and invisible): replace `https://www.google.com/recaptcha/api.js` with
// `https://<hiveguard>/_hiveguard/recaptcha.js` and the site key. `window.grecaptcha` (render, getResponse,
// reset, execute, ready), `.g-recaptcha` containers, the `g-recaptcha-response` field, `onload` and
// `render=explicit`. docs/migrate-recaptcha.md.
import { install } from "./compat.js";

install({
  global: "grecaptcha",
  className: "g-recaptcha",
  numericIds: true,
  textarea: true,
  refreshExpired: "manual",
  fields: () => ["g-recaptcha-response"],
  extras: () => ({
    ready: (callback: () => void) => {
      if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", callback);
      else callback();
    },
  }),
});
