// The two OpenAI calls a generative process makes: chat completions streamed (`data: {chunk}` lines, text in
// `choices[0].delta.content`, ended by `data: [DONE]`) and `POST /images/generations` (`b64_json` asked for;
// a `url` answer is downloaded). Errors carry the provider's message with the key scrubbed out.

export interface Endpoint {
  /** API root, e.g. https://api.openai.com/v1 */
  baseUrl: string;
  model: string;
  apiKey: string | null;
  timeoutMs: number;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export class ProviderCallError extends Error {
  override name = "ProviderCallError";
}

const join = (base: string, path: string) => `${base.replace(/\/+$/, "")}${path}`;

function headers(endpoint: Endpoint): Record<string, string> {
  return {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
  };
}

function scrub(text: string, secret: string | null): string {
  return secret ? text.split(secret).join("****") : text;
}

async function failure(response: Response, endpoint: Endpoint): Promise<ProviderCallError> {
  let message = `HTTP ${response.status}`;
  try {
    const body = (await response.text()).slice(0, 2000);
    const parsed = JSON.parse(body) as { error?: { message?: string } | string; message?: string };
    const detail =
      typeof parsed.error === "string" ? parsed.error : (parsed.error?.message ?? parsed.message);
    if (detail) message += `: ${detail}`;
  } catch {
    // not JSON: the status says enough
  }
  return new ProviderCallError(scrub(`The provider answered ${message}`, endpoint.apiKey));
}

function combine(signal: AbortSignal, timeoutMs: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
}

async function send(endpoint: Endpoint, path: string, body: unknown, signal: AbortSignal): Promise<Response> {
  try {
    const response = await fetch(join(endpoint.baseUrl, path), {
      method: "POST",
      headers: headers(endpoint),
      body: JSON.stringify(body),
      signal: combine(signal, endpoint.timeoutMs),
    });
    if (!response.ok) throw await failure(response, endpoint);
    return response;
  } catch (error) {
    if (error instanceof ProviderCallError || signal.aborted) throw error;
    throw new ProviderCallError(
      scrub(`Could not reach the provider: ${(error as Error).message}`, endpoint.apiKey),
    );
  }
}

/** Streams a chat completion; `onText` gets each piece of content as it arrives. Resolves to the whole text. */
export async function streamChat(
  endpoint: Endpoint,
  messages: ChatMessage[],
  options: { temperature: number; maxTokens: number },
  signal: AbortSignal,
  onText: (piece: string) => void,
): Promise<string> {
  const response = await send(
    endpoint,
    "/chat/completions",
    {
      model: endpoint.model,
      messages,
      temperature: options.temperature,
      max_tokens: options.maxTokens,
      stream: true,
    },
    signal,
  );
  let text = "";
  let buffer = "";
  const decoder = new TextDecoder();
  const take = (line: string) => {
    if (!line.startsWith("data:")) return false;
    const data = line.slice(5).trim();
    if (data === "[DONE]") return true;
    let chunk: { choices?: { delta?: { content?: string | null } }[]; error?: { message?: string } };
    try {
      chunk = JSON.parse(data) as typeof chunk;
    } catch {
      return false;
    }
    if (chunk.error)
      throw new ProviderCallError(
        scrub(`The provider failed: ${chunk.error.message ?? "error"}`, endpoint.apiKey),
      );
    const piece = chunk.choices?.[0]?.delta?.content;
    if (piece) {
      text += piece;
      onText(piece);
    }
    return false;
  };
  try {
    for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(bytes, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        if (take(line)) return text;
      }
    }
  } catch (error) {
    if (error instanceof ProviderCallError || signal.aborted) throw error;
    throw new ProviderCallError(
      scrub(`The provider's stream broke: ${(error as Error).message}`, endpoint.apiKey),
    );
  }
  if (buffer && take(buffer.trim())) return text;
  throw new ProviderCallError("The provider's stream ended without [DONE]");
}

/** Generates images; resolves to their bytes (PNG as the provider sends them). */
export async function generateImages(
  endpoint: Endpoint,
  prompt: string,
  options: { size: string; n: number },
  signal: AbortSignal,
): Promise<Buffer[]> {
  const response = await send(
    endpoint,
    "/images/generations",
    { model: endpoint.model, prompt, n: options.n, size: options.size, response_format: "b64_json" },
    signal,
  );
  const body = (await response.json().catch(() => null)) as {
    data?: { b64_json?: string; url?: string }[];
  } | null;
  if (!body || !Array.isArray(body.data) || body.data.length === 0)
    throw new ProviderCallError("The provider's answer holds no images");
  const images: Buffer[] = [];
  for (const item of body.data) {
    if (typeof item.b64_json === "string") images.push(Buffer.from(item.b64_json, "base64"));
    else if (typeof item.url === "string") {
      const image = await fetch(item.url, { signal: combine(signal, endpoint.timeoutMs) });
      if (!image.ok)
        throw new ProviderCallError(`Could not download a generated image (HTTP ${image.status})`);
      images.push(Buffer.from(await image.arrayBuffer()));
    } else throw new ProviderCallError("An image in the provider's answer has neither b64_json nor url");
  }
  return images;
}
