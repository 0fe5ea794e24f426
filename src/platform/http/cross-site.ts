import type { FastifyRequest } from "fastify";

/**
 * A request a browser sent on behalf of another site (Sec-Fetch-Site, else an Origin of another host).
 * Every mutation that takes a body a cross-site form can send (multipart, url-encoded, text/plain, raw
 * bytes) refuses these, since cached Basic credentials would otherwise ride along.
 */
export function isCrossSite(request: FastifyRequest): boolean {
  const site = request.headers["sec-fetch-site"];
  if (site === "cross-site" || site === "same-site") return true;
  const origin = request.headers.origin;
  if (typeof origin !== "string" || origin === "") return false;
  if (origin === "null") return true;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}
