// The forward-auth configuration snippets, read from docs/proxy.md itself, so the tests and the benchmark
// run exactly what the guide tells operators to write (only addresses and the cache directory replaced).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const GUIDE = fileURLToPath(new URL("../../docs/proxy.md", import.meta.url));

/** The fenced block after `<!-- snippet: name -->` in docs/proxy.md. */
export function docSnippet(name: string): string {
  const text = readFileSync(GUIDE, "utf8");
  const marker = text.indexOf(`<!-- snippet: ${name} -->`);
  if (marker === -1) throw new Error(`docs/proxy.md has no snippet "${name}"`);
  const block = /```[a-z]*\n([\s\S]*?)\n```/.exec(text.slice(marker));
  if (!block) throw new Error(`snippet "${name}" has no fenced block`);
  return block[1]!;
}

/**
 * The inside of nginx's `http {}` for forward auth as docs/proxy.md writes it, with HiveGuard at
 * `hiveguard` and the site at `site` (host:port), listening on 127.0.0.1:`port`; with `cacheDir`, the
 * documented short-lived cache of the auth answers is added.
 */
export function forwardAuthNginx(opts: {
  port: number;
  hiveguard: string;
  site: string;
  cacheDir?: string;
}): string {
  let conf = docSnippet("nginx-forward-auth");
  const replace = (from: string | RegExp, to: string) => {
    const next = conf.replace(from, to);
    if (next === conf) throw new Error(`forward-auth snippet: ${String(from)} not found`);
    conf = next;
  };
  replace("server 127.0.0.1:8000;", `server ${opts.hiveguard};`);
  replace("server 127.0.0.1:3000;", `server ${opts.site};`);
  replace("listen 80;", `listen 127.0.0.1:${opts.port};`);
  if (opts.cacheDir !== undefined) {
    replace(
      / {2}location = \/_hiveguard_auth \{[\s\S]*?\n {2}\}/,
      docSnippet("nginx-forward-auth-cache-location"),
    );
    conf =
      docSnippet("nginx-forward-auth-cache-http").replace("/var/cache/nginx/hiveguard", opts.cacheDir) +
      "\n" +
      conf;
  }
  return conf;
}

/** docs/proxy.md's Caddyfile, serving http://127.0.0.1:`port` (admin endpoint off) with these addresses. */
export function forwardAuthCaddy(opts: { port: number; hiveguard: string; site: string }): string {
  const conf = docSnippet("caddy-forward-auth");
  const out = conf
    .replace("example.com {", `{\n\tadmin off\n}\n\nhttp://127.0.0.1:${opts.port} {`)
    .replaceAll("127.0.0.1:8000", opts.hiveguard)
    .replaceAll("127.0.0.1:3000", opts.site);
  if (out === conf || out.includes("127.0.0.1:8000") || !out.includes(opts.site))
    throw new Error("the Caddy snippet in docs/proxy.md no longer has the expected addresses");
  return out;
}
