/// <reference lib="dom" />
// hCaptcha drop-in: replace `https://js.hcaptcha.com/1/api.js` with `https://<hiveguard>/_hiveguard/hcaptcha.js`
// and the site key. `window.hcaptcha` (render, execute, getResponse, getRespKey, reset, remove, setData, close),
// `.h-captcha` containers, the `h-captcha-response` field (and `g-recaptcha-response` unless
// `recaptchacompat=off`), `onload` and `render=explicit`. docs/migrate-hcaptcha.md.
import { install } from "./compat.js";

install({
  global: "hcaptcha",
  className: "h-captcha",
  numericIds: false,
  textarea: true,
  refreshExpired: "manual",
  fields: (_params, query) =>
    query.get("recaptchacompat") === "off"
      ? ["h-captcha-response"]
      : ["h-captcha-response", "g-recaptcha-response"],
  extras: () => ({
    getRespKey: () => "",
    setData: () => undefined,
    close: () => undefined,
  }),
});
