/// <reference lib="dom" />
// The JavaScript API and markup conventions of hCaptcha, Cloudflare Turnstile and Google reCAPTCHA, on top of
// the HiveGuard widget (core.ts), so a page written for one of them works after changing the script URL and the
// site key. Each service has its own small entry script (hcaptcha.ts, turnstile.ts, recaptcha.ts) that calls
// `install` with its spec: a page loads only what it uses.
//
// What each entry gives: `window.<name>.render(container, params)` returning a widget id, `getResponse`,
// `reset`, `remove`, `execute` (and the service's extras); automatic rendering of `.<class>` elements with their
// `data-sitekey`, `data-callback`, `data-expired-callback`, `data-error-callback` (and `data-size`) attributes;
// the hidden form field the service fills; and the script's `onload` and `render=explicit` parameters.
import { el, mount, scriptSrc, type WidgetHandle } from "./core.js";

type Fn = (...args: unknown[]) => unknown;
export type WidgetId = string | number;

export interface Params {
  sitekey?: string;
  callback?: string | Fn;
  "expired-callback"?: string | Fn;
  "error-callback"?: string | Fn;
  size?: string;
  /** Turnstile: the hidden field's name, or no field at all. */
  "response-field"?: boolean | string;
  "response-field-name"?: string;
  /** Turnstile: "execute" renders nothing until execute() is called. */
  execution?: string;
  [other: string]: unknown;
}

export interface Spec {
  /** `hcaptcha`, `turnstile`, `grecaptcha`. */
  global: string;
  /** Class of the containers rendered automatically: `h-captcha`, `cf-turnstile`, `g-recaptcha`. */
  className: string;
  /** Widget ids: hCaptcha and Turnstile use strings, reCAPTCHA numbers from 0. */
  numericIds: boolean;
  /** Names of the hidden form fields for these params and script options. */
  fields(params: Params, query: URLSearchParams): string[];
  /** hCaptcha and reCAPTCHA write `<textarea>` fields; Turnstile a hidden `<input>`. */
  textarea: boolean;
  /** What the service's widget does when its token expires: "auto" (Turnstile) or "manual". */
  refreshExpired: "auto" | "manual";
  /** Service-specific functions added to the API object. */
  extras?(api: Api, widgets: Map<string, Widget>): Record<string, unknown>;
}

export interface Widget {
  container: HTMLElement;
  params: Params;
  handle: WidgetHandle | null;
  /** Promise callbacks of an `execute({async: true})` waiting for the token. */
  waiting: ((token: string) => void)[];
  overlay: HTMLElement | null;
}

export interface Api {
  render(container: string | HTMLElement, params?: Params): WidgetId;
  getResponse(id?: WidgetId): string;
  reset(id?: WidgetId): void;
  remove(id?: WidgetId): void;
  execute(id?: WidgetId | string | HTMLElement, options?: { async?: boolean }): Promise<unknown> | void;
  [extra: string]: unknown;
}

const query = new URLSearchParams(scriptSrc ? new URL(scriptSrc).search : "");

function callable(value: unknown): Fn | undefined {
  const fn = typeof value === "string" ? (window as unknown as Record<string, unknown>)[value] : value;
  return typeof fn === "function" ? (fn as Fn) : undefined;
}

function resolve(container: string | HTMLElement): HTMLElement {
  const found =
    typeof container === "string"
      ? (document.getElementById(container.replace(/^#/, "")) ??
        document.querySelector<HTMLElement>(container))
      : container;
  if (!found) throw new Error(`HiveGuard: no element ${String(container)}`);
  return found;
}

/** The `data-*` attributes of an automatically rendered container, as render params. */
function paramsOf(element: HTMLElement): Params {
  const params: Params = {};
  for (const attribute of Array.from(element.attributes)) {
    if (attribute.name.startsWith("data-")) params[attribute.name.slice(5)] = attribute.value;
  }
  return params;
}

export function install(spec: Spec): Api {
  const widgets = new Map<string, Widget>();
  let next = 0;
  const newId = () => (spec.numericIds ? String(next++) : `hg-${Math.random().toString(36).slice(2, 12)}`);
  const idOut = (id: string): WidgetId => (spec.numericIds ? Number(id) : id);
  /** The widget named, or the first one (the services' default when no id is given). */
  const widgetOf = (id?: WidgetId | HTMLElement): Widget | undefined => {
    if (id === undefined || id === null || id === "") return widgets.values().next().value;
    if (typeof id !== "string" && typeof id !== "number") {
      for (const widget of widgets.values()) if (widget.container === id) return widget;
      return undefined;
    }
    return widgets.get(String(id));
  };

  const start = (widget: Widget) => {
    const { params, container } = widget;
    const target = widget.overlay ?? container;
    widget.handle = mount(target, {
      key: params.sitekey,
      api: typeof params.api === "string" ? params.api : undefined,
      fields: spec.fields(params, query),
      textarea: spec.textarea,
      theme: typeof params.theme === "string" ? params.theme : undefined,
      // hCaptcha and reCAPTCHA: `hl` (render param or script query); Turnstile: `language`.
      language: [params.hl, params.language, query.get("hl")].find((v): v is string => typeof v === "string"),
      refreshExpired:
        typeof params["refresh-expired"] === "string" ? params["refresh-expired"] : spec.refreshExpired,
      onToken(token) {
        if (token === null) return;
        if (widget.overlay) {
          // Invisible mode: the fields belong in the page's form, not in the overlay that goes away.
          for (const name of spec.fields(params, query)) {
            let field = container.querySelector<HTMLInputElement | HTMLTextAreaElement>(`[name="${name}"]`);
            if (!field) {
              field = el(spec.textarea ? "textarea" : "input", { name, hidden: "" });
              if (!spec.textarea) field.setAttribute("type", "hidden");
              container.append(field);
            }
            field.value = token;
          }
          widget.overlay.remove();
          widget.overlay = null;
        }
        callable(params.callback)?.(token);
        for (const resolveToken of widget.waiting.splice(0)) resolveToken(token);
      },
      onError: (message) => callable(params["error-callback"])?.(message),
      onExpired: () => callable(params["expired-callback"])?.(),
    });
  };

  const api: Api = {
    render(containerRef, params = {}) {
      const container = resolve(containerRef);
      const merged = { ...paramsOf(container), ...params };
      const id = newId();
      const widget: Widget = { container, params: merged, handle: null, waiting: [], overlay: null };
      widgets.set(id, widget);
      container.dataset.hgWidget = id;
      // Invisible widgets (and Turnstile's execution: "execute") wait for execute().
      if (merged.size !== "invisible" && merged.execution !== "execute") start(widget);
      return idOut(id);
    },
    getResponse(id) {
      const widget = widgetOf(id);
      if (!widget) return "";
      if (widget.handle) return widget.handle.response();
      const field = widget.container.querySelector<HTMLInputElement>(
        `[name="${spec.fields(widget.params, query)[0]}"]`,
      );
      return field?.value ?? "";
    },
    reset(id) {
      const widget = widgetOf(id);
      if (!widget?.handle) return;
      if (widget.overlay || widget.params.size === "invisible") {
        widget.handle.remove();
        widget.handle = null;
        widget.overlay?.remove();
        widget.overlay = null;
        for (const field of widget.container.querySelectorAll<HTMLInputElement>("[name]")) field.value = "";
      } else widget.handle.reset();
    },
    remove(id) {
      const widget = widgetOf(id);
      if (!widget) return;
      widget.handle?.remove();
      widget.overlay?.remove();
      for (const [key, value] of widgets) if (value === widget) widgets.delete(key);
    },
    execute(id, options) {
      let widget = widgetOf(id as WidgetId | HTMLElement);
      // Turnstile's execute(container, params) renders the container first when needed.
      if (!widget && (typeof id === "string" || id instanceof HTMLElement)) {
        const container = resolve(id);
        widget = widgetOf(api.render(container, { ...(options as Params), execution: "execute" }));
      }
      if (!widget) throw new Error("HiveGuard: no widget to execute");
      const promise = new Promise<string>((resolveToken) => widget.waiting.push(resolveToken));
      if (!widget.handle) {
        if (widget.params.size === "invisible") {
          // A modal dialog over the page, as the services show their challenge for invisible widgets.
          const overlay = el("div", { role: "dialog", "aria-modal": "true", "aria-label": "Verification" });
          overlay.style.cssText =
            "position:fixed;inset:0;background:rgba(0,0,0,.45);display:flex;align-items:center;justify-content:center;z-index:2147483647";
          overlay.tabIndex = -1;
          document.body.append(overlay);
          widget.overlay = overlay;
          // Focus moves into the dialog, as for any modal; the challenge's own controls follow by Tab.
          overlay.focus();
        }
        start(widget);
      } else if (widget.handle.response()) {
        const token = widget.handle.response();
        for (const resolveToken of widget.waiting.splice(0)) resolveToken(token);
      }
      if (options?.async) return promise.then((token) => ({ response: token, key: token }));
      return undefined;
    },
  };
  Object.assign(api, spec.extras?.(api, widgets));
  (window as unknown as Record<string, unknown>)[spec.global] = api;

  const renderAll = () => {
    document.querySelectorAll<HTMLElement>(`.${spec.className}`).forEach((container) => {
      if (!container.dataset.hgWidget) api.render(container);
    });
  };
  const ready = () => {
    if (query.get("render") !== "explicit") renderAll();
    const onload = query.get("onload");
    if (!onload) return;
    // A page (or a wrapper library that left the script tag to the page) may define the callback after the
    // script ran: look for it a while, as the services' loaders tolerate.
    let tries = 0;
    const call = () => {
      const fn = callable(onload);
      if (fn) fn();
      else if (++tries < 200) setTimeout(call, 50);
    };
    call();
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else setTimeout(ready, 0);
  return api;
}
