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

/**
 * The path a rule sees: no query or fragment, dot segments resolved (also when percent-encoded, as
 * `%2e%2e`), so `/public/../admin` cannot ride on a `/public/` rule.
 */
export function normalizePath(path: string): string {
  const raw = path.startsWith("/") ? path : `/${path}`;
  try {
    return new URL(raw.replace(/^\/+/, "/"), "http://hiveguard.invalid").pathname;
  } catch {
    return raw.split(/[?#]/)[0]!;
  }
}
