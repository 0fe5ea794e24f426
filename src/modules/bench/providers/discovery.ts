// Model discovery and connectivity checks against a provider's own models endpoint: OpenAI-compatible
// `GET {api_base}/models`, Anthropic `GET /v1/models`, Gemini `GET /v1beta/models`.
import type { ProviderKind } from "./providers.schema.js";

export interface DiscoveryTarget {
  kind: ProviderKind;
  apiBase: string;
  apiKey: string | null;
}

export interface DiscoveredModel {
  id: string;
  display_name: string;
}

export class DiscoveryError extends Error {}

/** Lists the models a provider offers (ids as the provider names them, without our prefix). */
export async function discoverModels(target: DiscoveryTarget, timeoutMs: number): Promise<DiscoveredModel[]> {
  const base = target.apiBase.replace(/\/+$/, "");
  const headers: Record<string, string> = { accept: "application/json" };
  let url: string;
  if (target.kind === "anthropic") {
    url = `${base.endsWith("/v1") ? base : `${base}/v1`}/models?limit=1000`;
    headers["anthropic-version"] = "2023-06-01";
    if (target.apiKey) headers["x-api-key"] = target.apiKey;
  } else if (target.kind === "gemini") {
    url = `${base}/models?pageSize=1000`;
    if (target.apiKey) headers["x-goog-api-key"] = target.apiKey;
  } else {
    url = `${base}/models`;
    if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  }

  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
  } catch (error) {
    const name = (error as Error).name;
    if (name === "TimeoutError" || name === "AbortError")
      throw new DiscoveryError(`Provider did not answer within ${Math.round(timeoutMs / 1000)} s`);
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new DiscoveryError(`Provider unreachable${cause ? ` (${cause})` : ""}`);
  }
  const text = await response.text().catch(() => "");
  if (!response.ok) {
    const hint = response.status === 401 || response.status === 403 ? " (check the API key)" : "";
    throw new DiscoveryError(`Provider answered HTTP ${response.status}${hint}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new DiscoveryError("Provider answered something that is not JSON");
  }
  return parseModels(target.kind, body);
}

function parseModels(kind: ProviderKind, body: unknown): DiscoveredModel[] {
  const record = (body ?? {}) as Record<string, unknown>;
  if (kind === "gemini") {
    const models = Array.isArray(record.models) ? (record.models as Record<string, unknown>[]) : [];
    return models
      .filter((m) => {
        const methods = m.supportedGenerationMethods;
        return !Array.isArray(methods) || methods.includes("generateContent");
      })
      .filter((m) => typeof m.name === "string")
      .map((m) => {
        const id = String(m.name).replace(/^models\//, "");
        return { id, display_name: typeof m.displayName === "string" ? m.displayName : id };
      });
  }
  const data = Array.isArray(record.data) ? record.data : Array.isArray(body) ? body : null;
  if (!data) throw new DiscoveryError("Provider answered without a model list");
  return (data as Record<string, unknown>[])
    .filter((m) => m && typeof m.id === "string")
    .map((m) => ({
      id: String(m.id),
      display_name: typeof m.display_name === "string" ? m.display_name : String(m.id),
    }));
}
