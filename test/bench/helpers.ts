// Helpers of the bench tests: real HTTP against a real server (test/support/server.ts).
import { randomBytes } from "node:crypto";
import type { TestServer } from "../support/server.js";

export interface Answer<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

let ipSeq = 0;
/** A client address of its own (the server trusts X-Forwarded-For from loopback in these tests). */
export const freshIp = () => `10.23.${Math.floor(++ipSeq / 250) % 250}.${ipSeq % 250}`;

export async function request<T = any>(
  t: TestServer,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; cookie?: string } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.cookie) headers.cookie = options.cookie;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers,
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, text, headers: res.headers };
}

export interface SignedInUser {
  id: string;
  email: string;
  role: string;
  token: string;
  /** `refresh_token=...` for a Cookie header. */
  cookie: string;
}

/** The cookie pair (`name=value`) of a Set-Cookie header. */
export function cookieOf(res: Answer): string {
  return (res.headers.get("set-cookie") ?? "").split(";")[0]!;
}

export async function registerUser(
  t: TestServer,
  email = `u-${randomBytes(4).toString("hex")}@example.com`,
  password = "correct horse battery",
) {
  const res = await request(t, "POST", "/api/auth/register", {
    body: { email, password },
    headers: { "x-forwarded-for": freshIp() },
  });
  if (res.status !== 200) throw new Error(`register failed: ${res.status} ${res.text}`);
  return { ...res.body.user, token: res.body.access_token, cookie: cookieOf(res) } as SignedInUser;
}

/** A model of the stand-in provider: its id, or the id with the fields `POST /api/config/model` takes. */
export type StandinModel = string | ({ id: string } & Record<string, unknown>);

/**
 * Adds the LLM stand-in (test/support/llm-standin.ts) to a user's config as the OpenAI-compatible provider
 * `local` (display name "Local", prefix `local`, so its models are `local/<id>`) with the given models.
 * Throws on any refusal, with the server's answer.
 */
export async function addStandinProvider(
  t: TestServer,
  user: { token: string },
  standin: { baseUrl: string },
  models: StandinModel[],
): Promise<void> {
  const add = async (path: string, body: unknown) => {
    const res = await request(t, "POST", path, { token: user.token, body });
    if (res.status !== 200) throw new Error(`POST ${path}: ${res.status} ${res.text}`);
  };
  await add("/api/config/provider", {
    provider_key: "local",
    display_name: "Local",
    api_base: standin.baseUrl,
    model_id_prefix: "local",
    kind: "openai_compatible",
  });
  for (const model of models)
    await add("/api/config/model", {
      provider_key: "local",
      ...(typeof model === "string" ? { id: model } : model),
    });
}

/** A newly registered user with the stand-in as provider `local` (see addStandinProvider). */
export async function userWithStandin(
  t: TestServer,
  standin: { baseUrl: string },
  models: StandinModel[],
): Promise<SignedInUser> {
  const user = await registerUser(t);
  await addStandinProvider(t, user, standin, models);
  return user;
}
