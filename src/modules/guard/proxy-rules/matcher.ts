import picomatch from "picomatch";
import type { MatchType } from "./proxy-rules.schema.js";

export interface RuleLike {
  id: string;
  pattern: string;
  matchType: MatchType;
  priority: number;
  enabled: boolean;
}

export interface CompiledRule<R extends RuleLike = RuleLike> {
  rule: R;
  test(path: string): boolean;
}

// Characters a path pattern may not hold: whitespace, controls, and the query/fragment delimiters
// (patterns match the path alone). `?` is allowed in globs, where it means one character.
const FORBIDDEN = /[\s\p{Cc}#]/u;

/** Why a pattern is unusable for a match type, or null when it is fine. */
export function patternProblem(pattern: string, matchType: MatchType): string | null {
  if (!pattern.startsWith("/")) return "must start with /";
  if (FORBIDDEN.test(pattern)) return "must not contain whitespace, control characters or #";
  if (matchType !== "glob" && pattern.includes("?")) return "must not contain ? (a path has no query string)";
  if (matchType === "glob") {
    try {
      picomatch.makeRe(pattern, { strictBrackets: true, dot: true });
    } catch (error) {
      return `invalid glob: ${(error as Error).message}`;
    }
  }
  return null;
}

/**
 * Compiles a rule once: exact is string equality, prefix is startsWith, glob is picomatch's regular
 * expression (`*` stays within a segment, `**` crosses them).
 */
export function compileRule<R extends RuleLike>(rule: R): CompiledRule<R> {
  switch (rule.matchType) {
    case "exact":
      return { rule, test: (path) => path === rule.pattern };
    case "prefix":
      return { rule, test: (path) => path.startsWith(rule.pattern) };
    case "glob": {
      const re = picomatch.makeRe(rule.pattern, { strictBrackets: true, dot: true });
      return { rule, test: (path) => re.test(path) };
    }
  }
}

/** Enabled rules, highest priority first (oldest first among equals, as listed). */
export function compileRules<R extends RuleLike>(rules: R[]): CompiledRule<R>[] {
  return rules.filter((rule) => rule.enabled).map(compileRule);
}

export type PathVerdict = { canonical: true; path: string } | { canonical: false; reason: string };

// Anything in a raw path that may make an upstream see another path than the one we match: a percent
// sign (handled by decoding), a backslash, or a raw `#`. Paths without any of these, without `//` and
// without a dot right after a slash (most of them) skip the careful walk below.
const NEEDS_CARE = /[%\\#;\p{Cc}]|\/\/|\/\.|\.(?:\/|$)| (?:\/|$)/u;
const ENCODED_SEPARATOR = /%(?:2f|5c)/i;
const STILL_ENCODED = /%[0-9a-f]{2}/i;
// Controls and NUL (PostgreSQL and many servers choke on them; no honest path holds one).
const CONTROL = /\p{Cc}/u;

/**
 * The one form in which proxy rules see a request path, shared by the proxy and the rule tester.
 *
 * A rule may exempt a path only when every upstream would read that path the same way we do, so a
 * path is canonical only when it has, before or after percent-decoding: no encoded `/` or `\`, no
 * backslash, no empty segment (`//`, which nginx merges), no segment made only of dots (`.`, `..`,
 * `...`, also before a `;param` as Tomcat reads `..;`), no segment ending in a dot or a space (Windows
 * servers strip them), no control character, no escape left after one decoding (double encoding) and
 * no invalid UTF-8 (overlong forms included). The canonical path is the percent-decoded one; rules
 * match it. A path that is not canonical is never exempt: it still reaches the site, unchanged, for a
 * visitor with a valid token (so `%2F` inside an id keeps working), and is challenged otherwise.
 */
export function canonicalPath(rawPath: string): PathVerdict {
  if (!rawPath.startsWith("/")) return { canonical: false, reason: "does not start with /" };
  if (!NEEDS_CARE.test(rawPath)) return { canonical: true, path: rawPath };
  if (rawPath.includes("\\")) return { canonical: false, reason: "holds a backslash" };
  if (rawPath.includes("#")) return { canonical: false, reason: "holds a #" };
  if (ENCODED_SEPARATOR.test(rawPath)) return { canonical: false, reason: "holds an encoded / or \\" };
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { canonical: false, reason: "holds a malformed escape or invalid UTF-8" };
  }
  if (decoded.includes("\\")) return { canonical: false, reason: "holds a backslash" };
  if (CONTROL.test(decoded)) return { canonical: false, reason: "holds a control character" };
  if (STILL_ENCODED.test(decoded)) return { canonical: false, reason: "is encoded twice" };
  const segments = decoded.split("/");
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const beforeParams = segment.split(";", 1)[0]!;
    if (beforeParams === "" && (i < segments.length - 1 || segment !== "")) {
      return { canonical: false, reason: "holds an empty segment" };
    }
    if (beforeParams !== "" && /^\.+$/.test(beforeParams)) {
      return { canonical: false, reason: "holds a dot segment" };
    }
    if (/[. ]$/.test(beforeParams))
      return { canonical: false, reason: "holds a segment ending in a dot or space" };
  }
  return { canonical: true, path: decoded };
}

/** The path part of a request target (before `?`). */
export function pathOf(url: string): string {
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}
