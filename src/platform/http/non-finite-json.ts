// Python's `json.dumps` (and so `requests`' `json=`) writes NaN and ±Infinity as the bare tokens `NaN`,
// `Infinity` and `-Infinity`, which JSON does not have. A client sending a diverging loss that way must not
// get a parse error: those tokens, outside strings, become the strings "NaN", "Infinity", "-Infinity" — the
// spelling the APIs accept for non-finite numbers (a schema that wants a finite number still refuses them).

/** The text with bare NaN/±Infinity tokens quoted, or null when it has none (then it was not the problem). */
export function quoteNonFiniteTokens(text: string): string | null {
  let out = "";
  let last = 0;
  let found = false;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    const token = text.startsWith("NaN", i)
      ? "NaN"
      : text.startsWith("Infinity", i)
        ? "Infinity"
        : text.startsWith("-Infinity", i)
          ? "-Infinity"
          : null;
    if (token === null) continue;
    out += `${text.slice(last, i)}"${token}"`;
    i += token.length - 1;
    last = i + 1;
    found = true;
  }
  return found ? out + text.slice(last) : null;
}
