/// <reference lib="dom" />
// HiveGuard challenge widget: include with a <script> tag, put
//   <div data-hiveguard-key="hg_..." data-callback="onVerified"></div>
// where the challenge should appear. On success the token goes to window[data-callback](token), into a
// hidden <input name="hiveguard-token"> inside the container (for plain form posts), and out as a
// `hiveguard:verified` event. No framework, no third-party requests: only the HiveGuard server is called.
// Optional attributes: data-error-callback, data-modality, data-api (base URL of generate/submit),
// data-return (hosted page: go there once verified).

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
type Callback = (token: string | null, info?: { bypass?: string }) => void;

const CSS = `.hg{font:15px/1.4 system-ui,sans-serif;color:#1a1a1a;border:1px solid #ccc;border-radius:8px;padding:12px;max-width:360px;background:#fff}
.hg fieldset{border:0;padding:0;margin:0 0 12px}.hg legend{font-weight:600;margin-bottom:6px}
.hg img{display:block;max-width:100%;border-radius:4px}.hg blockquote{margin:0 0 8px;padding:8px;background:#f3f3f3;border-radius:4px}
.hg label{display:block;padding:4px 0;cursor:pointer}.hg .grid{display:grid;gap:2px;margin-top:6px}
.hg .cell{aspect-ratio:1;border:2px solid #888;background-repeat:no-repeat;cursor:pointer;padding:0}
.hg .cell[aria-pressed=true]{border-color:#0b57d0;outline:3px solid #0b57d0;outline-offset:-5px}
.hg button{font:inherit}.hg .go{padding:6px 16px;border-radius:4px;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}
.hg :focus-visible{outline:3px solid #e37400;outline-offset:2px}.hg .st{min-height:1.4em;margin:8px 0 0}`;

let counter = 0;
const scriptSrc = (document.currentScript as HTMLScriptElement | null)?.src;
const defaultApi = `${scriptSrc ? new URL(scriptSrc).origin : location.origin}/api/v1/challenge`;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function named(name: string | undefined): Callback | undefined {
  const fn = name ? (window as unknown as Record<string, unknown>)[name] : undefined;
  return typeof fn === "function" ? (fn as Callback) : undefined;
}

function render(container: HTMLElement): void {
  if (container.dataset.hgReady) return;
  container.dataset.hgReady = "1";
  if (!document.getElementById("hg-css")) document.head.append(el("style", { id: "hg-css" }, CSS));
  const key = container.dataset.hiveguardKey;
  const api = (container.dataset.api ?? defaultApi).replace(/\/$/, "");
  const headers: Record<string, string> = key ? { "X-HiveGuard-Key": key } : {};
  const n = ++counter;
  const status = el("p", { class: "st", role: "status", "aria-live": "polite" });
  const tokenInput = el("input", { type: "hidden", name: "hiveguard-token" });
  const form = el("form", { "aria-describedby": `hg${n}-t`, novalidate: "" });
  const box = el(
    "div",
    { class: "hg", role: "group", "aria-labelledby": `hg${n}-t` },
    el("p", { id: `hg${n}-t` }, "Please answer to show you are human."),
    form,
    status,
  );
  container.replaceChildren(box, tokenInput);

  const done = (token: string | null, info?: { bypass?: string }) => {
    tokenInput.value = token ?? "";
    named(container.dataset.callback)?.(token, info);
    container.dispatchEvent(
      new CustomEvent("hiveguard:verified", { bubbles: true, detail: { token, ...info } }),
    );
    if (container.dataset.return) location.assign(container.dataset.return);
  };
  const fail = (message: string) => {
    status.textContent = message;
    named(container.dataset.errorCallback)?.(null);
  };

  async function load(): Promise<void> {
    form.replaceChildren();
    status.textContent = "Loading…";
    const modality = container.dataset.modality;
    let res: Response;
    try {
      res = await fetch(`${api}/generate${modality ? `?modality=${encodeURIComponent(modality)}` : ""}`, {
        headers,
        credentials: "same-origin",
      });
    } catch {
      return fail("Could not reach the verification service.");
    }
    if (res.status === 204) {
      status.textContent = "Verified.";
      return done(null, { bypass: res.headers.get("X-HiveGuard-Bypass") ?? "" });
    }
    if (res.status === 429)
      return fail(`Too many attempts. Try again in ${res.headers.get("Retry-After") ?? "a few"} seconds.`);
    if (!res.ok) return fail("Verification is not available right now.");
    show((await res.json()) as Challenge);
  }

  function show(challenge: Challenge): void {
    const answers = new Map<string, () => string | number[] | null>();
    challenge.items.forEach((item, index) => {
      const label = `Question ${index + 1} of ${challenge.items.length}`;
      const prompt = item.prompt ?? "Choose the answer that fits.";
      const set = el("fieldset", {}, el("legend", {}, `${label}: ${prompt}`));
      if (item.modality === "image") {
        if (!item.grid) set.append(el("img", { src: item.data_ref, alt: `Image for question ${index + 1}` }));
      } else if (item.modality === "text") {
        set.append(el("blockquote", {}, item.data_ref));
      } else {
        const audio = el("audio", { src: item.data_ref, preload: "none" });
        const play = el(
          "button",
          { type: "button", "aria-label": `Play audio for question ${index + 1}` },
          "▶ Play audio",
        );
        play.addEventListener(
          "click",
          () => void audio.play().catch(() => fail("The audio could not be played.")),
        );
        set.append(audio, play, el("p", {}, `Text alternative: ${prompt}`));
      }
      if (item.grid) {
        const { rows, cols } = item.grid;
        const grid = el("div", {
          class: "grid",
          role: "group",
          "aria-label": `${label}: select every matching cell`,
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
            "aria-label": `Cell ${cell + 1}, row ${r + 1}, column ${c + 1}`,
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
          set.append(el("label", {}, el("input", { type: "radio", name, value: choice }), ` ${choice}`));
        }
        answers.set(
          item.id,
          () => form.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`)?.value ?? null,
        );
      } else {
        const input = el("input", {
          type: "text",
          "aria-label": `Answer to question ${index + 1}`,
          maxlength: "200",
        });
        set.append(input);
        answers.set(item.id, () => input.value.trim() || null);
      }
      form.append(set);
    });
    const submit = el("button", { type: "submit", class: "go" }, "Verify");
    form.append(submit);
    status.textContent = "";
    form.onsubmit = async (event) => {
      event.preventDefault();
      const responses = challenge.items.map((item) => ({
        item_id: item.id,
        answer: answers.get(item.id)!(),
      }));
      if (responses.some((r) => r.answer === null)) {
        status.textContent = "Please answer every question.";
        return;
      }
      submit.disabled = true;
      status.textContent = "Checking…";
      try {
        const res = await fetch(`${api}/submit`, {
          method: "POST",
          headers: { ...headers, "Content-Type": "application/json" },
          body: JSON.stringify({ challenge_id: challenge.challenge_id, responses }),
          credentials: "same-origin",
        });
        const result = res.ok ? ((await res.json()) as { passed: boolean; token: string | null }) : null;
        if (result?.passed) {
          form.replaceChildren();
          status.textContent = "Verified. Thank you!";
          return done(result.token);
        }
        if (res.status === 429)
          return fail(
            `Too many attempts. Try again in ${res.headers.get("Retry-After") ?? "a few"} seconds.`,
          );
        status.textContent = "That was not quite right. Here is another one.";
        setTimeout(() => void load(), 800);
      } catch {
        submit.disabled = false;
        fail("Could not reach the verification service.");
      }
    };
  }

  void load();
}

function scan(): void {
  document
    .querySelectorAll<HTMLElement>("[data-hiveguard-key],[data-api][data-callback],[data-hiveguard]")
    .forEach(render);
}

(window as unknown as { hiveguard: unknown }).hiveguard = { render, scan };
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
else scan();
