/// <reference lib="dom" />
// HiveGuard challenge widget: include with a <script> tag, put
//   <div data-hiveguard-key="hg_..." data-callback="onVerified"></div>
// where the challenge should appear. On success the token goes to window[data-callback](token), into a
// hidden <input name="hiveguard-token"> inside the container (for plain form posts), and out as a
// `hiveguard:verified` event (a site's server checks it with POST /api/v1/siteverify). No framework, no
// third-party requests: only the HiveGuard server is called.
// Optional attributes: data-error-callback, data-expired-callback, data-modality, data-api (base URL of
// generate/submit), data-return (hosted page: go there once verified), data-theme (auto, light, dark),
// data-language (en, es, fr, de, pt; default: the browser's), data-refresh-expired (auto, manual).
import { mount, type WidgetHandle } from "./core.js";

type Callback = (token: string | null, info?: { bypass?: string }) => void;

function named(name: string | undefined): Callback | undefined {
  const fn = name ? (window as unknown as Record<string, unknown>)[name] : undefined;
  return typeof fn === "function" ? (fn as Callback) : undefined;
}

function render(container: HTMLElement): WidgetHandle | undefined {
  if (container.dataset.hgReady) return undefined;
  container.dataset.hgReady = "1";
  return mount(container, {
    key: container.dataset.hiveguardKey,
    api: container.dataset.api,
    modality: container.dataset.modality,
    theme: container.dataset.theme,
    language: container.dataset.language,
    refreshExpired: container.dataset.refreshExpired,
    onToken(token, info) {
      named(container.dataset.callback)?.(token, info);
      container.dispatchEvent(
        new CustomEvent("hiveguard:verified", { bubbles: true, detail: { token, ...info } }),
      );
      if (container.dataset.return) location.assign(container.dataset.return);
    },
    onError: () => named(container.dataset.errorCallback)?.(null),
    onExpired: () => named(container.dataset.expiredCallback)?.(null),
  });
}

function scan(): void {
  document
    .querySelectorAll<HTMLElement>("[data-hiveguard-key],[data-api][data-callback],[data-hiveguard]")
    .forEach((container) => void render(container));
}

(window as unknown as { hiveguard: unknown }).hiveguard = { render, scan };
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
else scan();
