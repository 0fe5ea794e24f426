// Path routing under /dashboard/ (the server answers every such path with the app's shell).
import { useEffect, useState } from "preact/hooks";

export const BASE = "/dashboard";

export function currentPage(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "/";
  return path.replace(/^\/+|\/+$/g, "") || "overview";
}

export function navigate(page: string): void {
  const target = page === "overview" ? `${BASE}/` : `${BASE}/${page}`;
  if (location.pathname !== target) history.pushState(null, "", target);
  window.dispatchEvent(new Event("hg:navigate"));
}

export function usePage(): string {
  const [page, setPage] = useState(currentPage());
  useEffect(() => {
    const update = () => setPage(currentPage());
    window.addEventListener("popstate", update);
    window.addEventListener("hg:navigate", update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener("hg:navigate", update);
    };
  }, []);
  return page;
}

/** Calls `fn` now and every `ms` while the page is visible (live updates by polling). */
export function usePoll(fn: () => void, ms: number, deps: unknown[] = []): void {
  useEffect(() => {
    fn();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") fn();
    }, ms);
    return () => clearInterval(timer);
  }, deps);
}
