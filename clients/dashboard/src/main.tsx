import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { login, logout, onSignedOut, session } from "./api.js";
import { ApiKeysPage } from "./pages/apikeys.js";
import { BenchPage, BenchStandalone } from "./pages/bench.js";
import { DatasetsPage } from "./pages/datasets.js";
import { LabelsPage } from "./pages/labels.js";
import { LabPage } from "./pages/lab/index.js";
import { MlPage } from "./pages/ml.js";
import { OverviewPage } from "./pages/overview.js";
import { ProxyRulesPage } from "./pages/proxy-rules.js";
import { SettingsPage } from "./pages/settings.js";
import { BASE, navigate, usePage } from "./router.js";
import "./style.css";

const PAGES: { id: string; title: string; view: () => preact.JSX.Element }[] = [
  { id: "overview", title: "Overview", view: OverviewPage },
  { id: "datasets", title: "Datasets", view: DatasetsPage },
  { id: "labels", title: "Labels", view: LabelsPage },
  { id: "keys", title: "API keys", view: ApiKeysPage },
  { id: "rules", title: "Proxy rules", view: ProxyRulesPage },
  { id: "settings", title: "Settings", view: SettingsPage },
  { id: "ml", title: "Risk model", view: MlPage },
  { id: "lab", title: "Lab", view: LabPage },
  { id: "bench", title: "Benchmarks", view: BenchPage },
];

/** The page that owns a path: itself, or the section it is under (`lab/sessions` → `lab`). */
const pageOf = (page: string) => PAGES.find((p) => p.id === page || page.startsWith(`${p.id}/`));

/** `?return=` when it is a path on this site (never `//host` or `/\host`), else null. */
function returnPath(): string | null {
  const value = new URLSearchParams(location.search).get("return");
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return null;
  const url = new URL(value, location.origin);
  const path = `${url.pathname}${url.search}${url.hash}`;
  // Checked again once resolved: `/..//evil.example` becomes `//evil.example`, another host.
  if (url.origin !== location.origin || path.startsWith("//") || path.startsWith("/\\")) return null;
  return path;
}

function Login(props: { onDone: (username: string) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const username = String(form.get("username") ?? "");
    setBusy(true);
    setError(null);
    try {
      await login(username, String(form.get("password") ?? ""));
      // Sent here from a page that needs signing in (e.g. tracking's `/`): go back there.
      const back = returnPath();
      if (back) return location.assign(back);
      props.onDone(username);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">
          HiveGuard <small>dashboard</small>
        </h1>
        <label>
          Username
          <input name="username" autocomplete="username" required autofocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        {error && (
          <p class="notice error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

function App() {
  const [user, setUser] = useState<string | null | undefined>(undefined);
  const page = usePage();
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    void session().then(setUser);
    return onSignedOut(() => setUser(null));
  }, []);

  // After navigating, focus moves to the page's heading (keyboard and screen-reader users land there).
  useEffect(() => {
    heading.current?.focus();
    const current = pageOf(page);
    document.title = `${current?.title ?? "Not found"} · HiveGuard dashboard`;
  }, [page, user]);

  if (user === undefined) return <p class="loading">Loading…</p>;
  // Bench users have accounts of their own: the benchmark section signs them in itself.
  if (user === null) return page === "bench" ? <BenchStandalone /> : <Login onDone={setUser} />;

  const current = pageOf(page);
  const View = current?.view;
  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={`${BASE}/`} onClick={(e) => (e.preventDefault(), navigate("overview"))}>
          HiveGuard <small>dashboard</small>
        </a>
        <nav aria-label="Pages">
          {PAGES.map((p) => (
            <a
              key={p.id}
              href={p.id === "overview" ? `${BASE}/` : `${BASE}/${p.id}`}
              aria-current={p.id === pageOf(page)?.id ? "page" : undefined}
              onClick={(e) => {
                if (e.ctrlKey || e.metaKey || e.shiftKey) return;
                e.preventDefault();
                navigate(p.id);
              }}
            >
              {p.title}
            </a>
          ))}
        </nav>
        <span class="user">
          {user}{" "}
          <button
            type="button"
            class="link"
            onClick={async () => {
              await logout();
              setUser(null);
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main id="content">
        <h1 tabIndex={-1} ref={heading}>
          {current?.title ?? "Not found"}
        </h1>
        {View ? <View key={page} /> : <p>No such page.</p>}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
