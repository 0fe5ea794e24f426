/**
 * Query strings and path parameters arrive as text. This turns the text of fields whose schema wants a
 * number, integer or boolean into that type (and single values of list fields into one-element lists),
 * leaving anything that does not convert cleanly as text so zod reports it with a precise message.
 */
type ZodLike = { _zod?: { def?: Record<string, unknown> & { type?: string } } };

const NUMERIC = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function def(schema: unknown): (Record<string, unknown> & { type?: string }) | undefined {
  return (schema as ZodLike | undefined)?._zod?.def;
}

/** The schema under optional/nullable/default/pipe wrappers. */
function unwrap(schema: unknown): unknown {
  let current = schema;
  for (let depth = 0; depth < 10; depth++) {
    const d = def(current);
    if (!d) return current;
    if (
      ["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional"].includes(d.type!)
    ) {
      current = d.innerType;
    } else if (d.type === "pipe") {
      current = d.in;
    } else {
      return current;
    }
  }
  return current;
}

export function isVoidSchema(schema: unknown): boolean {
  const type = def(schema)?.type;
  return type === "void" || type === "undefined" || type === "never";
}

function coerceScalar(text: string, schema: unknown): unknown {
  const type = def(unwrap(schema))?.type;
  if ((type === "number" || type === "bigint") && NUMERIC.test(text.trim())) return Number(text);
  if (type === "boolean") {
    if (text === "true" || text === "1") return true;
    if (text === "false" || text === "0") return false;
  }
  return text;
}

/**
 * A list in a query string: the parameter repeated (`ids=a&ids=b`), comma-separated (`ids=a,b`), or both
 * (`ids=a,b&ids=c`). Empty entries (`ids=` or `ids=a,,b`) are dropped. Values of list parameters therefore
 * cannot contain commas; the OpenAPI document says so on every such parameter (see `documentListParameters`).
 */
export function splitList(raw: string | string[]): string[] {
  return (Array.isArray(raw) ? raw : [raw]).flatMap((item) => item.split(",")).filter((item) => item !== "");
}

/** OpenAPI: list query parameters are `style: form, explode: true` (repeated), and also accept commas. */
export function documentListParameters(operation: {
  parameters?: ({ in?: string; schema?: unknown; description?: string } & Record<string, unknown>)[];
}): void {
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in !== "query" || (parameter.schema as { type?: unknown } | undefined)?.type !== "array")
      continue;
    parameter.style = "form";
    parameter.explode = true;
    const note = `Repeat the parameter (\`${String(parameter.name)}=a&${String(parameter.name)}=b\`) or separate the values with commas (\`${String(parameter.name)}=a,b\`).`;
    parameter.description = parameter.description ? `${parameter.description}. ${note}` : note;
  }
}

export function coerceQuery(
  values: Record<string, string | string[] | undefined> | undefined,
  inputSchema: unknown,
): Record<string, unknown> {
  const shape = (def(unwrap(inputSchema))?.shape ?? {}) as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(values ?? {})) {
    if (raw === undefined) continue;
    const fieldSchema = unwrap(shape[key]);
    if (def(fieldSchema)?.type === "array") {
      const element = def(fieldSchema)!.element;
      result[key] = splitList(raw).map((item) => coerceScalar(item, element));
    } else {
      result[key] = Array.isArray(raw)
        ? raw.map((item) => coerceScalar(item, fieldSchema))
        : coerceScalar(raw, fieldSchema);
    }
  }
  return result;
}
