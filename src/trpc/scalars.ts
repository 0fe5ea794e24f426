import { z } from "zod";

/**
 * A point in time on the wire: ISO 8601 / RFC 3339 in UTC (`Date.toISOString()`). OpenAPI says
 * `format: date-time`; GraphQL types it as the `DateTime` scalar (src/graphql/zod-to-pothos.ts). Every
 * module declares its timestamps with it.
 */
export const timestampSchema = z.iso.datetime();
