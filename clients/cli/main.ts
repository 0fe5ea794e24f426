/**
 * `hiveguard`: the command line of HiveGuard. Talks to a server through the typed client
 * (HIVEGUARD_URL, HIVEGUARD_API_KEY, HIVEGUARD_USERNAME / HIVEGUARD_PASSWORD), or runs one (`hiveguard start`).
 */
import { createWriteStream } from "node:fs";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { SingleBar } from "cli-progress";
import { Command, InvalidArgumentError, Option } from "commander";
import { stringify } from "csv-stringify";
import { VERSION } from "../../src/version.js";
import { createHiveGuardClient, type HiveGuardClient, HiveGuardError, type ItemInput } from "../ts/index.js";
import { fileFormat, readItems } from "./items-file.js";
import { colors, printJson, printRecord, printTable } from "./output.js";

const DEFAULT_URL = "http://localhost:8000";
const MAX_PRINTED_ERRORS = 20;
const BATCH_SIZE = 1000;

/** Exit codes: 0 everything worked, 1 the server refused or part of the work failed, 2 bad usage or input. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * The dashboard credentials from the environment: HIVEGUARD_USERNAME / HIVEGUARD_PASSWORD (as the tracking SDK
 * reads them), or the older HIVEGUARD_DASHBOARD_TOKEN (base64 of user:password), which still works.
 */
function dashboardCredentials(): { username: string; password: string } | { dashboardToken: string } | null {
  const { HIVEGUARD_USERNAME: username, HIVEGUARD_PASSWORD: password } = process.env;
  if (username && password !== undefined) return { username, password };
  if (process.env.HIVEGUARD_DASHBOARD_TOKEN) return { dashboardToken: process.env.HIVEGUARD_DASHBOARD_TOKEN };
  return null;
}

/** The variables the dashboard credentials came from, as a message names them. */
function dashboardVariables(): string {
  const credentials = dashboardCredentials();
  return credentials && "dashboardToken" in credentials
    ? "HIVEGUARD_DASHBOARD_TOKEN"
    : "HIVEGUARD_USERNAME / HIVEGUARD_PASSWORD";
}

function client(): HiveGuardClient {
  return createHiveGuardClient({
    url: process.env.HIVEGUARD_URL || DEFAULT_URL,
    apiKey: process.env.HIVEGUARD_API_KEY || undefined,
    ...dashboardCredentials(),
  });
}

/** Turns a client error into one line that says what went wrong and what to do. */
function explain(error: unknown, auth: "dashboard" | "apiKey"): CliError {
  if (!(error instanceof HiveGuardError))
    return new CliError(error instanceof Error ? error.message : String(error));
  if (error.unreachable) {
    return new CliError(`${error.message}. Is the server running? Set HIVEGUARD_URL to its address.`);
  }
  if (error.status === 401 && auth === "dashboard") {
    return new CliError(
      dashboardCredentials()
        ? `Rejected: ${error.url} refused the dashboard credentials in ${dashboardVariables()} (401). Check them against the server's DASHBOARD_USERNAME / DASHBOARD_PASSWORD.`
        : "Not signed in: set HIVEGUARD_USERNAME and HIVEGUARD_PASSWORD to the dashboard's credentials (the server's DASHBOARD_USERNAME / DASHBOARD_PASSWORD).",
    );
  }
  if (error.status === 401) {
    return new CliError(
      process.env.HIVEGUARD_API_KEY
        ? `Rejected: ${error.url} refused the API key in HIVEGUARD_API_KEY (401: unknown, revoked or expired). Create one with \`hiveguard keys create LABEL\`.`
        : "No API key: set HIVEGUARD_API_KEY (create one with `hiveguard keys create LABEL`).",
    );
  }
  return new CliError(`Error ${error.status}: ${error.message}`);
}

async function run<T>(auth: "dashboard" | "apiKey", action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw explain(error, auth);
  }
}

const number01 = (name: string) => (value: string) => {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed))
    throw new InvalidArgumentError(`${name} must be a number`);
  return parsed;
};
const integer = (value: string) => {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError("must be an integer");
  return Number(value);
};
const boolean = (value: string) => {
  if (!["true", "false"].includes(value)) throw new InvalidArgumentError("must be true or false");
  return value === "true";
};
const collect = (value: string, previous: string[] = []) => [...previous, value];
const API_KEY_SCOPES = ["challenge", "data:read", "data:write"] as const;
type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
const collectScope = (value: string, previous: ApiKeyScope[] = []): ApiKeyScope[] => {
  if (!(API_KEY_SCOPES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`Allowed choices are ${API_KEY_SCOPES.join(", ")}.`);
  }
  return [...previous, value as ApiKeyScope];
};
const outputOption = () =>
  new Option("--output <format>", "table for humans or json for scripts")
    .choices(["table", "json"])
    .default("table");
const fmtOption = () =>
  new Option("--fmt <format>", "export format").choices(["csv", "json", "jsonl"]).makeOptionMandatory();

/** Where exports go: a file with --output, else stdout. */
function destination(path: string | undefined): Writable {
  return path ? createWriteStream(path) : process.stdout;
}

export function buildProgram(): Command {
  const program = new Command("hiveguard")
    .description("HiveGuard: human-verification gateway and labeling engine")
    .version(VERSION)
    .exitOverride() // before the subcommands, so they inherit it: usage errors reach main() and exit 2
    .showHelpAfterError()
    .addHelpText(
      "after",
      `\nEnvironment:\n  HIVEGUARD_URL              server address (default ${DEFAULT_URL})\n  HIVEGUARD_API_KEY          key for the public API (items, labels, challenges)\n  HIVEGUARD_USERNAME         dashboard user (config, keys, rules, datasets, ml)\n  HIVEGUARD_PASSWORD         dashboard password\n  HIVEGUARD_DASHBOARD_TOKEN  older alternative: base64 of user:password`,
    );

  program
    .command("start")
    .description("run the HiveGuard server (configuration from the environment and .env)")
    .addHelpText("after", "\nExample:\n  PORT=8080 hiveguard start")
    .action(async () => {
      await import("../../src/main.js");
    });

  program
    .command("worker")
    .description(
      "run background jobs only (no HTTP): JOB_WORKERS per job type, on the servers' PostgreSQL (DATABASE_URL)",
    )
    .addHelpText(
      "after",
      "\nExample:\n  DATABASE_URL=postgresql://... REDIS_URL=redis://... hiveguard worker",
    )
    .action(async () => {
      await import("../../src/worker.js");
    });

  // config
  const config = program.command("config").description("runtime configuration (applies without restart)");
  config
    .command("show")
    .description("show the runtime config")
    .addOption(outputOption())
    .addHelpText("after", "\nExample:\n  hiveguard config show")
    .action(async (opts: { output: string }) => {
      const current = await run("dashboard", () => client().call((c) => c.guard.config.get.query()));
      if (opts.output === "json") printJson(current);
      else printRecord(current);
    });
  config
    .command("set")
    .description("change runtime settings (only the ones given)")
    .option("--risk-threshold <n>", "minimum human-confidence score, 0–1", number01("risk-threshold"))
    .option("--consensus-threshold <n>", "agreement a label needs, 0–1", number01("consensus-threshold"))
    .option("--consensus-min-votes <n>", "votes an item needs before it can be finalized", integer)
    .option("--proxy-timeout <seconds>", "upstream timeout", number01("proxy-timeout"))
    .option("--challenge-token-ttl <seconds>", "lifetime of a challenge token", integer)
    .addOption(
      new Option("--log-level <level>", "runtime log level").choices(["DEBUG", "INFO", "WARNING", "ERROR"]),
    )
    .addOption(
      new Option("--fail-mode <mode>", "when no ground-truth pool exists").choices(["open", "closed"]),
    )
    .addOption(outputOption())
    .addHelpText("after", "\nExample:\n  hiveguard config set --risk-threshold 0.7 --log-level DEBUG")
    .action(async (opts: Record<string, unknown>) => {
      const patch = {
        risk_threshold: opts.riskThreshold as number | undefined,
        consensus_threshold: opts.consensusThreshold as number | undefined,
        consensus_min_votes: opts.consensusMinVotes as number | undefined,
        proxy_timeout: opts.proxyTimeout as number | undefined,
        challenge_token_ttl: opts.challengeTokenTtl as number | undefined,
        log_level: opts.logLevel as "DEBUG" | "INFO" | "WARNING" | "ERROR" | undefined,
        fail_mode: opts.failMode as "open" | "closed" | undefined,
      };
      if (Object.values(patch).every((value) => value === undefined)) {
        throw new CliError(
          "Nothing to change: give at least one option (see hiveguard config set --help).",
          2,
        );
      }
      const updated = await run("dashboard", () => client().call((c) => c.guard.config.update.mutate(patch)));
      if (opts.output === "json") printJson(updated);
      else printRecord(updated);
    });

  // keys
  const keys = program.command("keys").description("API keys of the public API");
  keys
    .command("list")
    .description("list API keys (never the raw keys)")
    .addOption(outputOption())
    .addHelpText("after", "\nExample:\n  hiveguard keys list --output json")
    .action(async (opts: { output: string }) => {
      const list = await run("dashboard", () => client().call((c) => c.guard.apiKeys.list.query()));
      if (opts.output === "json") printJson(list);
      else
        printTable(list, [
          "id",
          "label",
          "key_prefix",
          "datasets",
          "sample_rate",
          "scopes",
          "hostnames",
          "secret_prefix",
          "created_at",
        ]);
    });
  keys
    .command("create <label>")
    .description("create an API key; the raw key is printed once and cannot be shown again")
    .option("--dataset <id>", "limit the key to a dataset (repeatable; none = all datasets)", collect, [])
    .option(
      "--sample-rate <f>",
      "fraction of generate calls that get a challenge, 0–1",
      number01("sample-rate"),
    )
    .addOption(
      new Option(
        "--scope <scope>",
        "what the key may do (repeatable; default all): challenge, data:read, data:write — give a key for public pages `challenge` only",
      ).argParser(collectScope),
    )
    .option(
      "--hostname <host>",
      "as a site key: a hostname the widget may run on, subdomains included (repeatable; none = any)",
      collect,
      [],
    )
    .option(
      "--site",
      "a site key for siteverify: the `challenge` scope only, and a siteverify secret (printed once)",
    )
    .addOption(outputOption())
    .addHelpText(
      "after",
      "\nExample:\n  hiveguard keys create production --dataset 3f1c...e9 --sample-rate 0.5\n  hiveguard keys create widget --scope challenge\n  hiveguard keys create shop --site --hostname shop.example.com",
    )
    .action(
      async (
        label: string,
        opts: {
          dataset: string[];
          sampleRate?: number;
          scope?: ApiKeyScope[];
          hostname: string[];
          site?: boolean;
          output: string;
        },
      ) => {
        const created = await run("dashboard", () =>
          client().call((c) =>
            c.guard.apiKeys.create.mutate({
              label,
              datasets: opts.dataset,
              sample_rate: opts.sampleRate,
              scopes: opts.site && !opts.scope ? ["challenge"] : opts.scope,
              hostnames: opts.hostname,
            }),
          ),
        );
        const secret = opts.site
          ? await run("dashboard", () =>
              client().call((c) => c.guard.apiKeys.rotateSecret.mutate({ id: created.id })),
            )
          : null;
        if (opts.output === "json")
          return printJson(secret ? { ...created, secret: secret.secret } : created);
        process.stdout.write(`id: ${created.id}\nkey: ${created.raw_key}\n`);
        if (secret) process.stdout.write(`secret: ${secret.secret}\n`);
        process.stderr.write(
          `${colors.yellow(`Store this ${secret ? "key and secret" : "key"} now: ${secret ? "they" : "it"} cannot be retrieved again.`)}\n`,
        );
      },
    );
  keys
    .command("secret <id>")
    .description(
      "create or rotate a site key's siteverify secret (printed once); the old one keeps working for --overlap seconds",
    )
    .option(
      "--overlap <seconds>",
      "seconds the replaced secret stays valid (default 7200; 0 = none)",
      integer,
    )
    .addOption(outputOption())
    .addHelpText("after", "\nExample:\n  hiveguard keys secret 3f1c...e9 --overlap 3600")
    .action(async (id: string, opts: { overlap?: number; output: string }) => {
      const secret = await run("dashboard", () =>
        client().call((c) => c.guard.apiKeys.rotateSecret.mutate({ id, overlap_seconds: opts.overlap })),
      );
      if (opts.output === "json") return printJson(secret);
      process.stdout.write(`secret: ${secret.secret}\n`);
      if (secret.previous_secret_expires_at)
        process.stdout.write(`previous secret valid until: ${secret.previous_secret_expires_at}\n`);
      process.stderr.write(`${colors.yellow("Store this secret now: it cannot be retrieved again.")}\n`);
    });
  keys
    .command("remove-secret <id>")
    .description(
      "remove a site key's siteverify secrets (current and previous): siteverify refuses them at once",
    )
    .addHelpText("after", "\nExample:\n  hiveguard keys remove-secret 3f1c...e9")
    .action(async (id: string) => {
      await run("dashboard", () => client().call((c) => c.guard.apiKeys.removeSecret.mutate({ id })));
      process.stdout.write(`Removed the siteverify secret of ${id}\n`);
    });
  keys
    .command("hostnames <id> [hostnames...]")
    .description("set the hostnames a site key may be used on (subdomains included); none = any")
    .addOption(outputOption())
    .addHelpText("after", "\nExample:\n  hiveguard keys hostnames 3f1c...e9 example.com shop.example.org")
    .action(async (id: string, hostnames: string[], opts: { output: string }) => {
      const key = await run("dashboard", () =>
        client().call((c) => c.guard.apiKeys.update.mutate({ id, hostnames })),
      );
      if (opts.output === "json") printJson(key);
      else printRecord(key);
    });
  keys
    .command("revoke <id>")
    .description("revoke an API key (takes effect immediately on every instance)")
    .addHelpText("after", "\nExample:\n  hiveguard keys revoke 3f1c...e9")
    .action(async (id: string) => {
      await run("dashboard", () => client().call((c) => c.guard.apiKeys.revoke.mutate({ id })));
      process.stdout.write(`Revoked ${id}\n`);
    });

  // proxy rules
  const rules = program.command("proxy-rules").description("paths exempt from the challenge");
  rules
    .command("list")
    .description("list proxy rules in evaluation order")
    .addOption(outputOption())
    .addHelpText("after", "\nExample:\n  hiveguard proxy-rules list")
    .action(async (opts: { output: string }) => {
      const list = await run("dashboard", () => client().call((c) => c.guard.proxyRules.list.query()));
      if (opts.output === "json") printJson(list);
      else printTable(list, ["id", "pattern", "match_type", "priority", "enabled"]);
    });
  rules
    .command("create <pattern>")
    .description("create a rule")
    .addOption(
      new Option("--match-type <type>", "how the pattern matches").choices(["prefix", "exact", "glob"]),
    )
    .option("--priority <n>", "higher is evaluated first (default 0)", integer)
    .addOption(outputOption())
    .addHelpText(
      "after",
      "\nExample:\n  hiveguard proxy-rules create /health --match-type exact --priority 100",
    )
    .action(
      async (
        pattern: string,
        opts: { matchType?: "prefix" | "exact" | "glob"; priority?: number; output: string },
      ) => {
        const rule = await run("dashboard", () =>
          client().call((c) =>
            c.guard.proxyRules.create.mutate({
              pattern,
              match_type: opts.matchType,
              priority: opts.priority,
            }),
          ),
        );
        if (opts.output === "json") printJson(rule);
        else process.stdout.write(`id: ${rule.id}\n`);
      },
    );
  rules
    .command("update <id>")
    .description("change a rule (only the options given)")
    .option("--enabled <bool>", "true or false", boolean)
    .option("--priority <n>", "higher is evaluated first", integer)
    .option("--pattern <pattern>", "new pattern")
    .addOption(
      new Option("--match-type <type>", "how the pattern matches").choices(["prefix", "exact", "glob"]),
    )
    .addOption(outputOption())
    .addHelpText("after", "\nExample:\n  hiveguard proxy-rules update 3f1c...e9 --enabled false")
    .action(async (id: string, opts: Record<string, unknown>) => {
      const rule = await run("dashboard", () =>
        client().call((c) =>
          c.guard.proxyRules.update.mutate({
            id,
            enabled: opts.enabled as boolean | undefined,
            priority: opts.priority as number | undefined,
            pattern: opts.pattern as string | undefined,
            match_type: opts.matchType as "prefix" | "exact" | "glob" | undefined,
          }),
        ),
      );
      if (opts.output === "json") printJson(rule);
      else printRecord(rule);
    });
  rules
    .command("delete <id>")
    .description("delete a rule (immediate)")
    .addHelpText("after", "\nExample:\n  hiveguard proxy-rules delete 3f1c...e9")
    .action(async (id: string) => {
      await run("dashboard", () => client().call((c) => c.guard.proxyRules.delete.mutate({ id })));
      process.stdout.write(`Deleted ${id}\n`);
    });

  // datasets
  const datasets = program.command("datasets").description("item datasets");
  datasets
    .command("list")
    .description("list datasets with their item counts")
    .addOption(outputOption())
    .addHelpText("after", "\nExample:\n  hiveguard datasets list")
    .action(async (opts: { output: string }) => {
      const list = await run("dashboard", () => client().call((c) => c.guard.datasets.list.query()));
      if (opts.output === "json") printJson(list);
      else printTable(list, ["id", "name", "modality", "item_count", "created_at"]);
    });
  datasets
    .command("create <name>")
    .description("create a dataset")
    .addOption(
      new Option("--modality <m>", "item modality").choices(["image", "text", "audio"]).makeOptionMandatory(),
    )
    .option("--prompt <text>", "default prompt of its challenges")
    .addOption(
      new Option("--challenge-type <type>", "default challenge type").choices([
        "image",
        "text",
        "audio",
        "grid_select",
        "select_all",
      ]),
    )
    .option("--choice <answer>", "an allowed answer (repeatable; default yes and no)", collect, undefined)
    .addOption(outputOption())
    .addHelpText(
      "after",
      '\nExample:\n  hiveguard datasets create "ImageNet Cats" --modality image --prompt "Is there a cat?"',
    )
    .action(async (name: string, opts: Record<string, unknown>) => {
      const dataset = await run("dashboard", () =>
        client().call((c) =>
          c.guard.datasets.create.mutate({
            name,
            modality: opts.modality as "image" | "text" | "audio",
            prompt: opts.prompt as string | undefined,
            challenge_type: opts.challengeType as "image" | undefined,
            choices: opts.choice as string[] | undefined,
          }),
        ),
      );
      if (opts.output === "json") printJson(dataset);
      else process.stdout.write(`id: ${dataset.id}\n`);
    });
  datasets
    .command("export <id>")
    .description("stream a dataset's finalized labels")
    .addOption(fmtOption())
    .option("--output <file>", "write to a file instead of stdout")
    .addHelpText("after", "\nExample:\n  hiveguard datasets export 3f1c...e9 --fmt csv --output labels.csv")
    .action(async (id: string, opts: { fmt: "csv" | "json" | "jsonl"; output?: string }) => {
      const body = await run("dashboard", () => client().exportDataset(id, opts.fmt));
      await pipeline(Readable.fromWeb(body as never), destination(opts.output));
      if (opts.output) process.stderr.write(`Wrote ${opts.output}\n`);
    });

  // items
  const items = program.command("items").description("items to label (public API: needs HIVEGUARD_API_KEY)");
  items
    .command("upload <file>")
    .description("validate every line of a .jsonl or .csv file, then upload it in batches of 1,000")
    .addHelpText(
      "after",
      "\nColumns/fields: dataset_id, data_ref, modality (required); challenge_type, prompt, ground_truth (optional).\nExample:\n  hiveguard items upload items.jsonl",
    )
    .action(async (file: string) => uploadItems(file));
  items
    .command("list")
    .description("list every item visible to the key (fetches every page)")
    .addOption(outputOption())
    .addHelpText("after", "\nExample:\n  hiveguard items list --output json")
    .action(async (opts: { output: string }) => {
      const all = await run("apiKey", async () => {
        const rows: Record<string, unknown>[] = [];
        for await (const item of client().items()) rows.push(item);
        return rows;
      });
      if (opts.output === "json") printJson(all);
      else printTable(all, ["id", "dataset_id", "modality", "data_ref", "created_at"]);
    });

  // labels
  program
    .command("labels")
    .description("finalized labels (public API: needs HIVEGUARD_API_KEY)")
    .command("export")
    .description("stream every finalized label visible to the key (safe for millions of rows)")
    .addOption(fmtOption())
    .option("--output <file>", "write to a file instead of stdout")
    .addHelpText("after", "\nExample:\n  hiveguard labels export --fmt jsonl --output labels.jsonl")
    .action(async (opts: { fmt: "csv" | "json" | "jsonl"; output?: string }) => {
      await run("apiKey", () =>
        pipeline(Readable.from(encodeLabels(client(), opts.fmt)), destination(opts.output)),
      );
      if (opts.output) process.stderr.write(`Wrote ${opts.output}\n`);
    });

  // challenge
  program
    .command("challenge")
    .description("challenges (public API: needs HIVEGUARD_API_KEY)")
    .command("generate [modality]")
    .description("generate a challenge, optionally of one modality (image, text, audio)")
    .addOption(outputOption())
    .addHelpText("after", "\nExample:\n  hiveguard challenge generate image")
    .action(async (modality: string | undefined, opts: { output: string }) => {
      if (modality && !["image", "text", "audio"].includes(modality)) {
        throw new CliError(`Unknown modality "${modality}": use image, text or audio.`, 2);
      }
      const response = await run("apiKey", () =>
        client().rest(`/api/v1/challenge/generate${modality ? `/${modality}` : ""}`),
      );
      if (response.status === 204) {
        const reason = response.headers.get("x-hiveguard-bypass") ?? "no challenge";
        process.stdout.write(
          reason === "no-gt-pool"
            ? "No challenge: the ground-truth pool is empty. Upload items with a ground_truth answer: hiveguard items upload FILE\n"
            : `No challenge for this request (${reason}).\n`,
        );
        return;
      }
      const challenge = (await response.json()) as Record<string, unknown>;
      if (opts.output === "json") return printJson(challenge);
      process.stdout.write(
        `challenge_id: ${String(challenge.challenge_id)}\nexpires_at: ${String(challenge.expires_at)}\n`,
      );
      printTable(challenge.items as Record<string, unknown>[], [
        "slot",
        "id",
        "modality",
        "prompt",
        "data_ref",
      ]);
    });

  // ml
  const ml = program.command("ml").description("the risk model");
  ml.command("status")
    .description("model readiness, sessions with features, last training")
    .addOption(outputOption())
    .addHelpText("after", "\nExample:\n  hiveguard ml status")
    .action(async (opts: { output: string }) => {
      const status = await run("dashboard", () => client().mlStatus());
      if (opts.output === "json") return printJson(status);
      const metrics = status.model?.metrics;
      printRecord({
        model_ready: status.model_ready,
        sessions_with_features: status.sessions_with_features,
        labeled_sessions: `${status.labeled_sessions} (training needs ${status.min_sessions_to_train})`,
        last_trained: status.last_trained ?? "never",
        model: status.model
          ? `v${status.model.version} (${status.model.source}, ${status.model.created_at})`
          : "none: every response scores 1.0",
        ...(metrics && {
          accuracy: metrics.accuracy,
          roc_auc: metrics.roc_auc,
          log_loss: metrics.log_loss,
          training_ms: metrics.training_ms,
        }),
        training:
          status.training.state === "running"
            ? `running, ${Math.round(status.training.progress * 100)} %`
            : status.training.state,
        ...(status.training.error && { training_error: status.training.error }),
      });
    });
  ml.command("train")
    .description("start training the risk model (runs in the background on the server)")
    .option("--wait", "wait for the run to finish, with a progress bar, and print the new model's metrics")
    .addHelpText("after", "\nExample:\n  hiveguard ml train\n  hiveguard ml train --wait")
    .action(async (opts: { wait?: boolean }) => {
      const hg = client();
      const result = await run("dashboard", () => hg.mlTrain());
      process.stdout.write(`${result.status}\n`);
      if (!opts.wait) return;
      const bar = process.stderr.isTTY ? new SingleBar({ stream: process.stderr, hideCursor: true }) : null;
      bar?.start(100, 0);
      const final = await run("dashboard", () =>
        hg.mlWaitForTraining({ onProgress: (progress) => bar?.update(Math.round(progress * 100)) }),
      );
      bar?.stop();
      if (final.training.state !== "completed")
        throw new CliError(`Training ${final.training.state}: ${final.training.error ?? "no detail"}`);
      const m = final.model;
      process.stdout.write(
        `model v${m?.version}: accuracy ${m?.metrics.accuracy}, roc_auc ${m?.metrics.roc_auc}, log_loss ${m?.metrics.log_loss}\n`,
      );
    });

  return program;
}

async function* encodeLabels(hg: HiveGuardClient, fmt: "csv" | "json" | "jsonl"): AsyncGenerator<string> {
  const columns = ["item_id", "data_ref", "modality", "label", "confidence", "solver_count", "created_at"];
  if (fmt === "csv") {
    const csv = stringify({ header: true, columns, cast: { object: (value) => JSON.stringify(value) } });
    const rows = Readable.from(hg.labels()).pipe(csv);
    for await (const chunk of rows) yield String(chunk);
    return;
  }
  let first = true;
  if (fmt === "json") yield "[";
  for await (const label of hg.labels()) {
    const row = Object.fromEntries(
      columns.map((column) => [column, (label as Record<string, unknown>)[column]]),
    );
    yield fmt === "json" ? `${first ? "\n" : ",\n"}${JSON.stringify(row)}` : `${JSON.stringify(row)}\n`;
    first = false;
  }
  if (fmt === "json") yield first ? "]\n" : "\n]\n";
}

/** Two passes over the file: validate every line (nothing is sent if one is wrong), then send batches. */
async function uploadItems(file: string): Promise<void> {
  if (!fileFormat(file)) throw new CliError(`${file}: expected a .jsonl or .csv file`, 2);
  let total = 0;
  const errors: string[] = [];
  try {
    for await (const parsed of readItems(file)) {
      if (parsed.error) errors.push(`Error on line ${parsed.line}: ${parsed.error}`);
      else total++;
    }
  } catch (error) {
    throw new CliError(`Cannot read ${file}: ${(error as Error).message}`, 2);
  }
  if (errors.length > 0) {
    for (const message of errors.slice(0, MAX_PRINTED_ERRORS))
      process.stderr.write(`${colors.red(message)}\n`);
    if (errors.length > MAX_PRINTED_ERRORS)
      process.stderr.write(`... and ${errors.length - MAX_PRINTED_ERRORS} more errors\n`);
    throw new CliError(
      `${errors.length} invalid line${errors.length > 1 ? "s" : ""}: nothing was uploaded.`,
      2,
    );
  }
  if (total === 0) throw new CliError(`${file} has no items.`, 2);

  const batches = Math.ceil(total / BATCH_SIZE);
  process.stdout.write(`Uploading ${total} items in ${batches} batch${batches > 1 ? "es" : ""}...\n`);
  const bar = process.stderr.isTTY ? new SingleBar({ stream: process.stderr, hideCursor: true }) : null;
  bar?.start(total, 0);
  let unreachable: HiveGuardError | undefined;

  async function* validItems(): AsyncGenerator<ItemInput> {
    for await (const parsed of readItems(file)) if (parsed.item) yield parsed.item;
  }
  const summary = await client().uploadItems(validItems(), {
    batchSize: BATCH_SIZE,
    onBatch: ({ index, size, created, error }) => {
      bar?.increment(size);
      const line = error
        ? colors.red(`✗ Batch ${index}/${batches} failed: ${explain(error, "apiKey").message}`)
        : colors.green(`✓ Batch ${index}/${batches}: ${created} items created`);
      if (bar) bar.stop();
      process.stdout.write(`${line}\n`);
      if (bar && index < batches) bar.start(total, index * BATCH_SIZE);
      if (error?.unreachable || error?.status === 401) unreachable ??= error;
    },
  });
  bar?.stop();
  process.stdout.write(`Total: ${summary.created} items created\n`);
  if (summary.failed > 0) {
    const hint = unreachable ? ` (${explain(unreachable, "apiKey").message})` : "";
    throw new CliError(`${summary.failed} items were not created${hint}.`);
  }
}

export async function main(argv = process.argv): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const code = (error as { code?: string; exitCode?: number }).code;
    if (code === "commander.helpDisplayed" || code === "commander.version" || code === "commander.help")
      return;
    if (code?.startsWith("commander.")) {
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`${colors.red(error instanceof Error ? error.message : String(error))}\n`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  }
}

await main();
