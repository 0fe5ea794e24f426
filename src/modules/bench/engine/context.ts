// Context tiers: a system message padded with natural English prose to exactly N tokens of cl100k_base
// (the tokenizer the upstream uses for its tiers), so a "5000" tier means 5000 tokens on every provider.
// The prose ships in the repository (context-corpus.txt, written for it); it is cycled for large tiers.
import { readFileSync } from "node:fs";
import { countTokens, decode, encode } from "gpt-tokenizer/encoding/cl100k_base";

let corpusParagraphs: string[] | undefined;

function paragraphs(): string[] {
  corpusParagraphs ??= readFileSync(new URL("./context-corpus.txt", import.meta.url), "utf8")
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean);
  return corpusParagraphs;
}

const cache = new Map<number, string>();
const CACHE_ENTRIES = 8;

/** Counts tokens with cl100k_base. */
export function countContextTokens(text: string): number {
  return countTokens(text);
}

/**
 * Natural text of exactly `tokens` tokens (cl100k_base); "" for 0. Paragraphs are cycled, then the token
 * sequence is cut; a cut that re-encodes to another count (a merge across the cut) is moved back a token
 * at a time until the text counts exactly.
 */
export function contextText(tokens: number): string {
  if (!Number.isInteger(tokens) || tokens < 0) throw new RangeError("tokens must be a non-negative integer");
  if (tokens === 0) return "";
  const cached = cache.get(tokens);
  if (cached !== undefined) return cached;

  const source = paragraphs();
  const parts: string[] = [];
  // About four characters per token in this prose; overshoot by a margin, then cut exactly.
  let chars = 0;
  for (let i = 0; chars < tokens * 5 + 200; i++) {
    const p = source[i % source.length]!;
    parts.push(p);
    chars += p.length + 2;
  }
  const ids = encode(parts.join("\n\n"));
  let text = "";
  for (let cut = tokens; cut > tokens - 8 && cut > 0; cut--) {
    // Fill what the cut gave back with single-token words (" the" is one token and never merges).
    text = decode(ids.slice(0, cut)) + " the".repeat(tokens - cut);
    if (countTokens(text) === tokens) break;
  }
  if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(tokens, text);
  return text;
}
