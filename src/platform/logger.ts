import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger };

/** Paths pino blanks out wherever they appear in a logged object: nothing secret reaches the logs. */
const REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-hiveguard-key"]',
  'req.headers["x-hiveguard-token"]',
  // Request headers logged under another name, e.g. @fastify/multipart's busboyOptions at trace level.
  "*.headers.authorization",
  "*.headers.cookie",
  '*.headers["set-cookie"]',
  '*.headers["x-hiveguard-key"]',
  '*.headers["x-hiveguard-token"]',
  "headers.authorization",
  "headers.cookie",
  'headers["x-hiveguard-key"]',
  'headers["x-hiveguard-token"]',
  "*.password",
  "*.secret",
  "*.secretKey",
  "*.raw_key",
  "*.rawKey",
  "*.token",
];

export function createLogger(
  level: string,
  options: { name?: string; destination?: DestinationStream } = {},
): Logger {
  const settings = {
    name: options.name ?? "hiveguard",
    level,
    redact: { paths: REDACT, censor: "[redacted]" },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
