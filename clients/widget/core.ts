/// <reference lib="dom" />
// The challenge widget's core: draws a challenge in a container, answers it against the HiveGuard server and
// hands the token over. Used by the HiveGuard widget (widget.ts: `data-hiveguard-key` containers) and by the
// drop-in APIs of hCaptcha, Turnstile and reCAPTCHA (compat.ts). No framework, no third-party requests.
import { LANGUAGES, pickLanguage } from "./strings.js";

interface Item {
  id: string;
  slot: string;
  data_ref: string;
  modality: string;
  prompt: string | null;
  challenge_type: string;
  choices: string[];
  grid: { rows: number; cols: number } | null;
}
interface Challenge {
  challenge_id: string;
  items: Item[];
}

// Looks: a card as hCaptcha's and Turnstile's are (a header band with the question, large touch targets, the
// brand in the footer). Every target is at least 44 px high; text and controls keep WCAG AA contrast.
// Colours are variables so that one block of values gives the dark theme (`theme: "dark"`, or "auto" when the
// visitor's system is dark); both keep WCAG AA contrast.
const LIGHT =
  "--fg:#1f1f1f;--bg:#fff;--bd:#c4c7c5;--sf:#f1f3f4;--ac:#0b57d0;--acb:#0b57d0;--acs:#e8f0fe;--mu:#444746;--ln:#747775;--ft:#f8f9fa;--er:#b3261e;--ers:#fce8e6;--hl:#e3e3e3";
const DARK =
  "--fg:#e3e3e3;--bg:#1f1f1f;--bd:#5f6368;--sf:#2d2f31;--ac:#a8c7fa;--acb:#0842a0;--acs:#0842a0;--mu:#c4c7c5;--ln:#8e918f;--ft:#28292a;--er:#f2b8b5;--ers:#601410;--hl:#444746";
const CSS = `.hg{${LIGHT};font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);border:1px solid var(--bd);border-radius:10px;max-width:400px;background:var(--bg);box-shadow:0 1px 3px #0002;overflow:hidden;text-align:left;box-sizing:border-box;color-scheme:light}
.hg.dk{${DARK};color-scheme:dark}@media (prefers-color-scheme:dark){.hg.au{${DARK};color-scheme:dark}}
.hg *{box-sizing:border-box}.hg .hd{background:var(--acb);color:#fff;padding:12px 14px;margin:0;font-weight:600}
.hg form{padding:12px 14px 0;margin:0}.hg fieldset{border:0;padding:0;margin:0 0 14px;min-width:0}.hg legend{font-weight:600;margin-bottom:8px;padding:0}
.hg img{display:block;width:100%;max-height:260px;object-fit:contain;background:var(--sf);border-radius:6px;margin-bottom:8px}
.hg blockquote{margin:0 0 8px;padding:10px 12px;background:var(--sf);border-left:4px solid var(--ac);border-radius:4px;overflow-wrap:anywhere}
.hg label{display:flex;align-items:center;gap:10px;min-height:44px;padding:0 12px;margin-top:6px;border:1px solid var(--bd);border-radius:6px;cursor:pointer}
.hg label:has(input:checked){border-color:var(--ac);background:var(--acs)}.hg input[type=radio]{width:20px;height:20px;margin:0;accent-color:var(--ac)}
.hg input[type=text]{width:100%;min-height:44px;padding:0 10px;font:inherit;color:inherit;background:var(--bg);border:1px solid var(--ln);border-radius:6px}
.hg .grid{display:grid;gap:3px;margin-top:6px}.hg .cell{aspect-ratio:1;min-height:44px;border:2px solid var(--ln);background-repeat:no-repeat;cursor:pointer;padding:0;border-radius:3px}
.hg .cell[aria-pressed=true]{border-color:var(--ac);outline:4px solid var(--ac);outline-offset:-6px}
.hg button{font:inherit;min-height:44px;min-width:44px;border-radius:6px;cursor:pointer;padding:0 16px}.hg button:disabled{cursor:default;opacity:.6}
.hg .act{display:flex;gap:8px;justify-content:space-between;padding:0 14px 12px}.hg .go{border:1px solid var(--acb);background:var(--acb);color:#fff;font-weight:600;flex:0 1 auto}
.hg .new{border:1px solid var(--ln);background:var(--bg);color:var(--fg)}.hg .new.hi{border-color:var(--acb);background:var(--acb);color:#fff}
.hg .st{margin:12px 14px 0}.hg .st:empty{margin:0}.hg .err,.hg .bad{color:var(--er);font-weight:600;padding:10px 12px;background:var(--ers);border-radius:6px}
.hg .bad{margin:0 0 8px}.hg fieldset:disabled label{opacity:.5}
.hg .ft{display:flex;align-items:center;justify-content:space-between;gap:8px;padding:8px 14px;border-top:1px solid var(--hl);background:var(--ft);font-size:13px;color:var(--mu)}
.hg .ft b{display:flex;align-items:center;gap:6px;color:var(--fg)}.hg .ft svg{width:20px;height:20px}
.hg .sp{display:inline-block;width:1em;height:1em;margin-right:6px;vertical-align:-2px;border:2px solid currentColor;border-right-color:transparent;border-radius:50%;animation:hgs .8s linear infinite}
@keyframes hgs{to{transform:rotate(1turn)}}@media (prefers-reduced-motion:reduce){.hg .sp{animation-duration:3s}}
.hg :focus-visible{outline:3px solid var(--fg);outline-offset:2px;box-shadow:0 0 0 5px var(--bg)}`;

const LOGO =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="#f9ab00" d="M12 1.5 21.1 6.75v10.5L12 22.5 2.9 17.25V6.75z"/><path fill="#fff" d="M8 8h2v3h4V8h2v8h-2v-3h-4v3H8z"/></svg>';

let counter = 0;
/** The URL this script was loaded from (read while it runs: `currentScript` is null later). */
export const scriptSrc = (document.currentScript as HTMLScriptElement | null)?.src;
const defaultApi = `${scriptSrc ? new URL(scriptSrc).origin : location.origin}/api/v1/challenge`;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** How a widget is mounted: by the `data-*` scanner (widget.ts) or by a compatibility API (compat.ts). */
export interface MountOptions {
  /** The site key (an API key with the `challenge` scope); none for the hosted page. */
  key?: string;
  /** Base URL of generate/submit (default: the script's origin + /api/v1/challenge). */
  api?: string;
  modality?: string;
  /** Names of the hidden form fields the token is written to (default `hiveguard-token`). */
  fields?: string[];
  /** Write the fields as `<textarea>` (hCaptcha and reCAPTCHA do) instead of hidden `<input>`. */
  textarea?: boolean;
  /** A solved challenge, or a visitor let through (token of the bypass, null on the hosted page). */
  onToken(token: string | null, info?: { bypass?: string }): void;
  /** The service could not be reached, or refused (429, 503). */
  onError?(message: string): void;
  /** The token's lifetime ended before the form was sent. */
  onExpired?(): void;
  /** "auto" (default: follows the visitor's system), "light" or "dark". */
  theme?: string;
  /** A language tag the page asks for ("es", "pt-BR"); default: the browser's languages (strings.ts). */
  language?: string;
  /**
   * When the token expires: "auto" (default) loads a new challenge at once, saying why; anything else
   * ("manual", Turnstile's "never") waits for the visitor to press New challenge, as hCaptcha and reCAPTCHA do.
   */
  refreshExpired?: string;
}

export interface WidgetHandle {
  /** The current token, "" when none (unsolved, expired or reset). */
  response(): string;
  expired(): boolean;
  /** Forget the token and load a new challenge. */
  reset(): void;
  /** Take the widget out of its container. */
  remove(): void;
}

/**
 * Milliseconds a JWT has left, counted from now by its own lifetime (`exp - iat`), so a visitor whose clock is
 * off still keeps the token its whole life. Read, not verified: the server verifies.
 */
function lifetimeMs(token: string): number | null {
  try {
    const payload = token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/");
    const { exp, iat } = JSON.parse(atob(payload)) as { exp?: unknown; iat?: unknown };
    if (typeof exp !== "number") return null;
    return typeof iat === "number" ? (exp - iat) * 1000 : exp * 1000 - Date.now();
  } catch {
    return null;
  }
}

export function mount(container: HTMLElement, options: MountOptions): WidgetHandle {
  if (!document.getElementById("hg-css")) document.head.append(el("style", { id: "hg-css" }, CSS));
  const language = pickLanguage(options.language);
  const t = LANGUAGES[language]!;
  const theme = options.theme === "dark" ? " dk" : options.theme === "light" ? "" : " au";
  const key = options.key;
  const api = (options.api ?? defaultApi).replace(/\/$/, "");
  const headers: Record<string, string> = key ? { "X-HiveGuard-Key": key } : {};
  const n = ++counter;
  const status = el("p", { class: "st", role: "status", "aria-live": "polite" });
  const inputs = (options.fields ?? ["hiveguard-token"]).map((name) =>
    options.textarea
      ? el("textarea", {
          name,
          // reCAPTCHA pages read `#g-recaptcha-response`: the first widget's field has the id (never twice).
          ...(document.getElementById(name) ? {} : { id: name }),
          hidden: "",
          "aria-hidden": "true",
          tabindex: "-1",
        })
      : el("input", { type: "hidden", name }),
  );
  const form = el("form", { id: `hg${n}-f`, "aria-describedby": `hg${n}-t`, novalidate: "" });
  // Outside the form, so they stay (and keep focus) while the questions are replaced.
  const submit = el("button", { type: "submit", class: "go", form: form.id }, t.verify);
  const again = el("button", { type: "button", class: "new" }, t.newChallenge);
  const actions = el("div", { class: "act" }, again, submit);
  const brand = el("b");
  brand.innerHTML = `${LOGO}HiveGuard`;
  const box = el(
    "div",
    { class: `hg${theme}`, role: "group", "aria-labelledby": `hg${n}-t`, lang: language },
    el("p", { id: `hg${n}-t`, class: "hd" }, t.header),
    // Above the questions, where a visitor looks first (a wrong previous answer, an image that failed).
    status,
    form,
    actions,
    el("div", { class: "ft" }, el("span", {}, t.protectedBy), brand),
  );
  container.replaceChildren(box, ...inputs);

  let token = "";
  let isExpired = false;
  let expiry: ReturnType<typeof setTimeout> | undefined;
  let removed = false;
  /** Bumped by every load: answers to an older request or events of an older challenge are ignored. */
  let generation = 0;
  const say = (message: string, error = false, busy = false) => {
    status.className = error ? "st err" : "st";
    status.replaceChildren(...(busy ? [el("span", { class: "sp", "aria-hidden": "true" })] : []), message);
  };
  const setToken = (value: string) => {
    token = value;
    for (const input of inputs) input.value = value;
  };
  const done = (value: string | null, info?: { bypass?: string }) => {
    form.replaceChildren();
    actions.hidden = true;
    setToken(value ?? "");
    isExpired = false;
    clearTimeout(expiry);
    const lifetime = value ? lifetimeMs(value) : null;
    if (lifetime !== null)
      expiry = setTimeout(
        () => {
          setToken("");
          isExpired = true;
          options.onExpired?.();
          if ((options.refreshExpired ?? "auto") === "auto") return void load(t.expiredRenewed);
          actions.hidden = false;
          submit.disabled = true;
          say(t.expired, true);
        },
        Math.max(0, lifetime),
      );
    options.onToken(value, info);
  };
  const fail = (message: string) => {
    form.removeAttribute("aria-busy");
    submit.disabled = true;
    again.disabled = false;
    again.classList.add("hi");
    say(message, true);
    options.onError?.(message);
  };

  /** Loads a challenge; `notice` is said with it (a wrong previous answer), `focus` moves focus into it. */
  async function load(notice = "", focus = false): Promise<void> {
    const current = ++generation;
    form.replaceChildren();
    form.setAttribute("aria-busy", "true");
    actions.hidden = false;
    submit.disabled = true;
    again.disabled = false;
    again.classList.remove("hi");
    say(notice || t.loading, notice !== "", notice === "");
    if (removed) return;
    const modality = options.modality;
    let res: Response;
    let challenge: Challenge | undefined;
    try {
      res = await fetch(`${api}/generate${modality ? `?modality=${encodeURIComponent(modality)}` : ""}`, {
        headers,
        credentials: "same-origin",
      });
      if (res.ok && res.status !== 204) challenge = (await res.json()) as Challenge;
    } catch {
      if (current === generation) fail(t.unreachable);
      return;
    }
    if (current !== generation || removed) return;
    if (res.status === 204) {
      say(t.verified);
      // Let through without a challenge: a site key's generate sends a token saying so (siteverify accepts it).
      return done(res.headers.get("X-HiveGuard-Token"), {
        bypass: res.headers.get("X-HiveGuard-Bypass") ?? "",
      });
    }
    if (res.status === 429) return fail(t.tooMany(res.headers.get("Retry-After") ?? "a few"));
    if (!challenge) return fail(t.unavailable);
    show(challenge, current, notice, focus);
  }

  function show(challenge: Challenge, current: number, notice: string, focus: boolean): void {
    const answers = new Map<string, () => string | number[] | null>();
    /** An image that does not load: say so and offer a new challenge instead of a question nobody can answer. */
    const broken = (set: HTMLFieldSetElement, index: number) => () => {
      if (current !== generation || set.querySelector(".bad")) return;
      set.disabled = true;
      set.querySelector("img, .grid")?.replaceWith(el("p", { class: "bad" }, t.imageFailed(index + 1)));
      submit.disabled = true;
      again.classList.add("hi");
      say(t.imageFailedStatus, true);
    };
    challenge.items.forEach((item, index) => {
      const label = t.question(index + 1, challenge.items.length);
      const prompt = item.prompt ?? t.defaultPrompt;
      const set = el("fieldset", {}, el("legend", {}, `${label}: ${prompt}`));
      if (item.modality === "image") {
        if (!item.grid) {
          const img = el("img", { src: item.data_ref, alt: t.imageAlt(index + 1) });
          img.addEventListener("error", broken(set, index));
          set.append(img);
        } else {
          // A grid draws its cells from a background image, which reports no error: a probe does.
          const probe = new Image();
          probe.onerror = broken(set, index);
          probe.src = item.data_ref;
        }
      } else if (item.modality === "text") {
        set.append(el("blockquote", {}, item.data_ref));
      } else {
        const audio = el("audio", { src: item.data_ref, preload: "none" });
        const play = el("button", { type: "button", "aria-label": t.playAudioLabel(index + 1) }, t.playAudio);
        play.addEventListener("click", () => audio.play().catch(() => say(t.audioFailed, true)));
        set.append(audio, play, el("p", {}, `${t.textAlternative} ${prompt}`));
      }
      if (item.grid) {
        const { rows, cols } = item.grid;
        const grid = el("div", {
          class: "grid",
          role: "group",
          "aria-label": t.gridLabel(label),
        });
        grid.style.gridTemplateColumns = `repeat(${cols},1fr)`;
        const cells: HTMLButtonElement[] = [];
        for (let cell = 0; cell < rows * cols; cell++) {
          const r = Math.floor(cell / cols);
          const c = cell % cols;
          const button = el("button", {
            type: "button",
            class: "cell",
            "aria-pressed": "false",
            "aria-label": t.cell(cell + 1, r + 1, c + 1),
          });
          button.style.backgroundImage = `url("${encodeURI(item.data_ref)}")`;
          button.style.backgroundSize = `${cols * 100}% ${rows * 100}%`;
          button.style.backgroundPosition = `${cols > 1 ? (c * 100) / (cols - 1) : 0}% ${rows > 1 ? (r * 100) / (rows - 1) : 0}%`;
          button.addEventListener("click", () =>
            button.setAttribute("aria-pressed", String(button.getAttribute("aria-pressed") !== "true")),
          );
          cells.push(button);
          grid.append(button);
        }
        set.append(grid);
        answers.set(item.id, () =>
          cells.flatMap((b, i) => (b.getAttribute("aria-pressed") === "true" ? [i] : [])),
        );
      } else if (item.choices.length > 0) {
        const name = `hg${n}-${index}`;
        for (const choice of item.choices) {
          set.append(el("label", {}, el("input", { type: "radio", name, value: choice }), choice));
        }
        answers.set(
          item.id,
          () => form.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`)?.value ?? null,
        );
      } else {
        const input = el("input", {
          type: "text",
          "aria-label": t.answerLabel(index + 1),
          maxlength: "200",
        });
        set.append(input);
        answers.set(item.id, () => input.value.trim() || null);
      }
      form.append(set);
    });
    form.removeAttribute("aria-busy");
    submit.disabled = false;
    // The wrong-answer notice stays on the new challenge until the next answer.
    if (!notice) say("");
    if (focus) form.querySelector<HTMLElement>("input, button")?.focus();
    form.onsubmit = async (event) => {
      event.preventDefault();
      if (submit.disabled) return;
      const responses = challenge.items.map((item) => ({
        item_id: item.id,
        answer: answers.get(item.id)!(),
      }));
      if (responses.some((r) => r.answer === null)) {
        say(t.answerEvery, true);
        return;
      }
      submit.disabled = true;
      again.disabled = true;
      form.setAttribute("aria-busy", "true");
      submit.replaceChildren(el("span", { class: "sp", "aria-hidden": "true" }), t.checking);
      say(t.checkingAnswer);
      const restore = () => {
        submit.textContent = t.verify;
        again.disabled = false;
        form.removeAttribute("aria-busy");
      };
      try {
        const res = await fetch(`${api}/submit`, {
          method: "POST",
          headers: { ...headers, "Content-Type": "application/json" },
          body: JSON.stringify({ challenge_id: challenge.challenge_id, responses }),
          credentials: "same-origin",
        });
        const result = res.ok ? ((await res.json()) as { passed: boolean; token: string | null }) : null;
        restore();
        if (current !== generation) return;
        if (result?.passed) {
          say(t.verifiedThanks);
          return done(result.token);
        }
        if (res.status === 429) return fail(t.tooMany(res.headers.get("Retry-After") ?? "a few"));
        if (!result) return fail(t.unavailable);
        void load(t.wrong, true);
      } catch {
        restore();
        if (current !== generation) return;
        submit.disabled = false;
        say(t.unreachableRetry, true);
        options.onError?.(t.unreachable);
      }
    };
  }

  again.addEventListener("click", () => void load());
  void load();
  return {
    response: () => token,
    expired: () => isExpired,
    reset() {
      clearTimeout(expiry);
      setToken("");
      isExpired = false;
      void load();
    },
    remove() {
      removed = true;
      generation++;
      clearTimeout(expiry);
      container.replaceChildren();
    },
  };
}
