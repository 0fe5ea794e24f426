// Small forms of the lab's plain routes (the preview's fields, an ONNX model upload): multipart or
// URL-encoded, as a browser's FormData or DashAI's axios sends them. The dataset upload streams its file to
// disk instead (http.ts).
import type { FastifyRequest } from "fastify";
import { ValidationError } from "../../platform/errors.js";
import { tooLarge } from "./errors.js";

export interface SmallForm {
  fields: Record<string, string>;
  /** The part named `file`, in memory. */
  file: { name: string; bytes: Buffer } | null;
}

/** Reads a form (a JSON object body is taken too); the file part at most `maxFileBytes` (413 beyond). */
export async function readSmallForm(request: FastifyRequest, maxFileBytes: number): Promise<SmallForm> {
  if (!request.isMultipart()) {
    const body = request.body;
    if (body && typeof body === "object" && !Array.isArray(body)) {
      const fields: Record<string, string> = {};
      for (const [key, value] of Object.entries(body as Record<string, unknown>))
        fields[key] = typeof value === "string" ? value : JSON.stringify(value);
      return { fields, file: null };
    }
    throw ValidationError.field(["body"], "Send a form (multipart/form-data or urlencoded)");
  }
  const fields: Record<string, string> = {};
  let file: SmallForm["file"] = null;
  try {
    for await (const part of request.parts()) {
      if (part.type === "field") {
        fields[part.fieldname] = String(part.value);
        continue;
      }
      if (file || part.fieldname !== "file") {
        part.file.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of part.file as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxFileBytes) throw tooLarge(`The file is larger than ${maxFileBytes} bytes`);
        chunks.push(chunk);
      }
      if (part.file.truncated) throw tooLarge(`The file is larger than ${maxFileBytes} bytes`);
      file = { name: part.filename ?? "", bytes: Buffer.concat(chunks) };
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "FST_REQ_FILE_TOO_LARGE") throw tooLarge(`The file is larger than ${maxFileBytes} bytes`);
    if (code?.startsWith("FST_") || /multipart|boundary|Unexpected end/i.test((error as Error).message ?? ""))
      throw ValidationError.field(["body"], `Malformed multipart/form-data body (${code ?? "parse error"})`);
    throw error;
  }
  return { fields, file };
}
