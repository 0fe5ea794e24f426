import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

const tempDir = () => mkdtempSync(join(tmpdir(), "hiveguard-config-"));
const strongSecret = "x".repeat(40);

describe("loadConfig", () => {
  it("reads BENCH_MCP_STDIO_COMMANDS as a JSON or comma-separated list, none when unset, and names it when invalid", () => {
    const dir = tempDir();
    const read = (value?: string) =>
      loadConfig({ HIVEGUARD_DATA_DIR: dir, ...(value !== undefined && { BENCH_MCP_STDIO_COMMANDS: value }) })
        .bench.mcpStdioCommands;
    expect(read()).toEqual([]);
    expect(read("")).toEqual([]);
    expect(read('["/usr/local/bin/a-mcp", "/opt/b mcp"]')).toEqual(["/usr/local/bin/a-mcp", "/opt/b mcp"]);
    expect(read(" /usr/local/bin/a-mcp , /usr/bin/b-mcp,/usr/local/bin/a-mcp")).toEqual([
      "/usr/local/bin/a-mcp",
      "/usr/bin/b-mcp",
    ]);
    expect(() => read("[not json")).toThrow(/BENCH_MCP_STDIO_COMMANDS/);
    expect(() => read('[""]')).toThrow(/BENCH_MCP_STDIO_COMMANDS/);
    expect(() => read("a,,b")).toThrow(/BENCH_MCP_STDIO_COMMANDS/);
  });

  it("starts with nothing set: development secrets generated once, persisted, and reused", () => {
    const dir = tempDir();
    const first = loadConfig({ HIVEGUARD_DATA_DIR: dir });
    expect(first.port).toBe(8000);
    expect(first.databaseUrl).toBeUndefined();
    expect(first.redisUrl).toBeUndefined();
    expect(first.generatedSecrets?.createdNow).toBe(true);
    expect(first.secretKey.length).toBeGreaterThanOrEqual(32);
    expect(first.dashboard.username).toBe("admin");

    const file = join(dir, "dev-secrets.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8")).dashboardPassword).toBe(first.dashboard.password);

    const second = loadConfig({ HIVEGUARD_DATA_DIR: dir });
    expect(second.generatedSecrets?.createdNow).toBe(false);
    expect(second.dashboard).toEqual(first.dashboard);
    expect(second.secretKey).toBe(first.secretKey);
  });

  it("configured secrets win over generated ones and nothing is written", () => {
    const dir = tempDir();
    const config = loadConfig({
      HIVEGUARD_DATA_DIR: dir,
      SECRET_KEY: strongSecret,
      DASHBOARD_USERNAME: "ops",
      DASHBOARD_PASSWORD: "pw",
    });
    expect(config.generatedSecrets).toBeNull();
    expect(config.dashboard).toEqual({ username: "ops", password: "pw" });
    expect(() => statSync(join(dir, "dev-secrets.json"))).toThrow();
  });

  it("production refuses a missing or short SECRET_KEY and missing dashboard credentials", () => {
    const base = { NODE_ENV: "production", HIVEGUARD_DATA_DIR: tempDir() };
    expect(() => loadConfig(base)).toThrow(/SECRET_KEY is not set/);
    expect(() => loadConfig({ ...base, SECRET_KEY: "short" })).toThrow(/at least 32 characters/);
    expect(() => loadConfig({ ...base, SECRET_KEY: strongSecret })).toThrow(/DASHBOARD_USERNAME is not set/);
    const ok = loadConfig({
      ...base,
      SECRET_KEY: strongSecret,
      DASHBOARD_USERNAME: "ops",
      DASHBOARD_PASSWORD: "a long password",
    });
    expect(ok.nodeEnv).toBe("production");
  });

  it("names every invalid variable", () => {
    try {
      loadConfig({ PORT: "eighty", DATABASE_URL: "mysql://x", HIVEGUARD_DATA_DIR: tempDir() });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/PORT/);
      expect((error as Error).message).toMatch(/DATABASE_URL/);
    }
  });

  it("accepts HiveGuard's documented log level names", () => {
    const dir = tempDir();
    expect(loadConfig({ LOG_LEVEL: "WARNING", HIVEGUARD_DATA_DIR: dir }).logLevel).toBe("warn");
    expect(loadConfig({ LOG_LEVEL: "DEBUG", HIVEGUARD_DATA_DIR: dir }).logLevel).toBe("debug");
    expect(() => loadConfig({ LOG_LEVEL: "LOUD", HIVEGUARD_DATA_DIR: dir })).toThrow(/LOG_LEVEL/);
  });

  it("WORKERS > 1 needs PostgreSQL and Redis", () => {
    expect(() => loadConfig({ WORKERS: "2", HIVEGUARD_DATA_DIR: tempDir() })).toThrow(/WORKERS > 1 needs/);
    const config = loadConfig({
      WORKERS: "2",
      DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/test",
      REDIS_URL: "redis://127.0.0.1:6379",
      HIVEGUARD_DATA_DIR: tempDir(),
    });
    expect(config.workers).toBe(2);
  });
});
