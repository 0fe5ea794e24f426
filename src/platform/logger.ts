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
  if (options.destination) return pino(settings, options.destination);
  // A person at a terminal reads lines, a log shipper reads JSON: pretty only when stdout is a TTY.
  if (process.stdout.isTTY && !process.env.LOG_FORMAT?.startsWith("json"))
    return pino(
      settings,
      pino.transport({
        target: "pino-pretty",
        options: { colorize: true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname" },
      }),
    );
  return pino(settings);
}
