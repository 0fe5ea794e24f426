// Removing secrets from anything a provider error lets through (messages, bodies echoed back by a
// server) before it reaches an `error` field, an event, a log line or an export.

const KEY_PATTERNS: readonly [RegExp, string][] = [
  [/\b(sk-(?:proj-|ant-)?[A-Za-z0-9]{4})[A-Za-z0-9_-]{8,}/g, "$1***"],
  [/\b(key-[A-Za-z0-9]{4})[A-Za-z0-9_-]{8,}/g, "$1***"],
  [/\b(gsk_[A-Za-z0-9]{4})[A-Za-z0-9_-]{8,}/g, "$1***"],
  [/\b(AIza[A-Za-z0-9_-]{4})[A-Za-z0-9_-]{8,}/g, "$1***"],
  [/\b(xai-[A-Za-z0-9]{4})[A-Za-z0-9_-]{8,}/g, "$1***"],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, "Bearer ***"],
  [/([?&](?:key|api_key|apikey|token|access_token)=)[^&\s"']+/gi, "$1***"],
  [/("(?:api[_-]?key|x-api-key|authorization|x-goog-api-key)"\s*:\s*")[^"]*(")/gi, "$1***$2"],
];

/**
 * Replaces every known secret (exactly, wherever it appears) and anything shaped like a provider key or a
 * bearer token. Secrets shorter than 4 characters are ignored (they would mangle ordinary words).
 */
export function scrubSecrets(text: string, secrets: readonly (string | null | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("***");
  }
  for (const [pattern, replacement] of KEY_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
