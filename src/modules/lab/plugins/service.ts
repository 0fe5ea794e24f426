// Installed lab plugins: install from a folder or an `npm pack` .tgz (copied or unpacked under
// LAB_DATA_DIR/plugins/<name>/), enable, disable, uninstall, and the list beside the plugins available in the
// repository's examples/ (packages with the keyword "hiveguard-lab-plugin"). Loading registers the plugin's
// models, explorers and converters in the engine and the component registry at once (no restart); a plugin
// that throws at load is kept with its error and registers nothing.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { basename, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import type { Logger } from "../../../platform/logger.js";
import { ConflictError, NotFoundError, ValidationError } from "../../../platform/errors.js";
import type { LabComponentService } from "../components/service.js";
import { registerPluginConverter, unregisterPluginConverter } from "../engine/converters.js";
import { registerPluginExplorer, unregisterPluginExplorer } from "../engine/explorers.js";
import { paramsSchema, registerPluginModel, unregisterPluginModel, type Task } from "../engine/index.js";
import { converterDefinition, explorerDefinition, loadPlugin, modelDefinition } from "./loader.js";
import type { LabPluginComponent } from "./plugin-api.js";

const run = promisify(execFile);
/** DashAI's plugin status: 0 available (REGISTERED), 1 installed but disabled, 2 installed, 99 error. */
export const PLUGIN_STATUS = { AVAILABLE: 0, DISABLED: 1, INSTALLED: 2, ERROR: 99 } as const;
const EXAMPLES = fileURLToPath(new URL("../../../../examples/", import.meta.url));
const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]{0,100}$/;

interface PackageInfo {
  name: string;
  version: string;
  description: string | null;
  main: string;
}

export interface PluginOut {
  id: number | null;
  name: string;
  version: string;
  description: string | null;
  source: string;
  status: number;
  enabled: boolean;
  error: string | null;
  components: string[];
  installed_at: string | null;
}

type Row = NonNullable<Awaited<ReturnType<PrismaClient["labPlugin"]["findUnique"]>>>;

const bad = (field: string, message: string) => ValidationError.field(["body", field], message);

async function readPackage(dir: string): Promise<PackageInfo> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as Record<string, unknown>;
  } catch {
    throw bad("source", "No readable package.json in the plugin");
  }
  if (typeof json.name !== "string" || !PACKAGE_NAME.test(json.name))
    throw bad("source", "package.json needs a valid npm package name");
  const main = typeof json.main === "string" ? json.main : "index.js";
  if (isAbsolute(main) || main.split(/[\\/]/).includes(".."))
    throw bad("source", "package.json main must stay inside the package");
  return {
    name: json.name,
    version: typeof json.version === "string" ? json.version : "0.0.0",
    description: typeof json.description === "string" ? json.description : null,
    main,
  };
}

export class LabPluginService {
  /** The components each loaded plugin registered (by plugin name). */
  private readonly loaded = new Map<string, LabPluginComponent[]>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly components: LabComponentService,
    private readonly dataDir: string,
    private readonly log: Logger,
  ) {}

  private get root(): string {
    return join(this.dataDir, "plugins");
  }

  private dirOf(name: string): string {
    return join(this.root, name.replace(/^@/, "").replace(/\//g, "__"));
  }

  private async entryOf(row: { name: string }): Promise<string> {
    const dir = this.dirOf(row.name);
    return join(dir, (await readPackage(dir)).main);
  }

  /** Loads every enabled plugin (at start). */
  async loadAll(): Promise<void> {
    for (const row of await this.prisma.labPlugin.findMany({
      where: { enabled: true },
      orderBy: { id: "asc" },
    }))
      await this.load(row);
  }

  /** Loads one plugin and registers its models; records the error instead when it throws. */
  private async load(row: Row): Promise<Row> {
    this.unload(row.name);
    let error: string | null = null;
    try {
      const components = await loadPlugin(await this.entryOf(row));
      for (const component of components) {
        const taken = this.components.find(component.name);
        if (taken && !this.isPluginComponent(component.name))
          throw new Error(`${component.name} is already a registered component`);
        if (taken) throw new Error(`${component.name} is already registered by another plugin`);
      }
      for (const component of components) {
        if (component.type === "Model") registerPluginModel(modelDefinition(component, row.name));
        else if (component.type === "Explorer")
          registerPluginExplorer(explorerDefinition(component, row.name));
        else registerPluginConverter(converterDefinition(component, row.name));
      }
      this.components.addPluginComponents(
        row.name,
        components.map((component) => ({
          name: component.name,
          type: component.type,
          // Explorers and converters fit any task (they work on a notebook's table), as the built-in ones.
          tasks: component.type === "Model" ? [component.task] : ([] as Task[]),
          displayName: component.displayName,
          description: component.description,
          schema: paramsSchema(component.params),
        })),
      );
      this.loaded.set(row.name, components);
    } catch (caught) {
      error = ((caught as Error)?.message ?? String(caught)).slice(0, 2000) || "load failed";
      this.log.warn({ plugin: row.name, error }, "lab: a plugin failed to load");
    }
    if (error === row.error) return row;
    return this.prisma.labPlugin.update({ where: { id: row.id }, data: { error } });
  }

  private isPluginComponent(name: string): boolean {
    return [...this.loaded.values()].some((components) => components.some((c) => c.name === name));
  }

  private unload(name: string): void {
    for (const component of this.loaded.get(name) ?? []) {
      if (component.type === "Model") unregisterPluginModel(component.name);
      else if (component.type === "Explorer") unregisterPluginExplorer(component.name);
      else unregisterPluginConverter(component.name);
    }
    this.components.removePluginComponents(name);
    this.loaded.delete(name);
  }

  /**
   * Loads the enabled plugins this process has not loaded yet: a `hiveguard worker` started before a plugin
   * was installed calls it before running a job whose explorer or converter it does not know.
   */
  async sync(): Promise<void> {
    for (const row of await this.prisma.labPlugin.findMany({
      where: { enabled: true, error: null },
      orderBy: { id: "asc" },
    }))
      if (!this.loaded.has(row.name)) await this.load(row);
  }

  private out(row: Row): PluginOut {
    return {
      id: row.id,
      name: row.name,
      version: row.version,
      description: row.description,
      source: row.source,
      status: row.error
        ? PLUGIN_STATUS.ERROR
        : row.enabled
          ? PLUGIN_STATUS.INSTALLED
          : PLUGIN_STATUS.DISABLED,
      enabled: row.enabled,
      error: row.error,
      components: (this.loaded.get(row.name) ?? []).map((c) => c.name),
      installed_at: row.createdAt.toISOString(),
    };
  }

  private async row(id: number): Promise<Row> {
    const row = await this.prisma.labPlugin.findUnique({ where: { id } });
    if (!row) throw new NotFoundError(`Plugin ${id} not found`);
    return row;
  }

  /** The packages in examples/ marked as lab plugins (what can be installed by name). */
  async available(): Promise<
    { name: string; version: string; description: string | null; source: string }[]
  > {
    const found = [];
    for (const entry of await readdir(EXAMPLES, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isDirectory()) continue;
      const dir = join(EXAMPLES, entry.name);
      try {
        const json = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { keywords?: unknown };
        if (!Array.isArray(json.keywords) || !json.keywords.includes("hiveguard-lab-plugin")) continue;
        const info = await readPackage(dir);
        found.push({ name: info.name, version: info.version, description: info.description, source: dir });
      } catch {
        // not a plugin
      }
    }
    return found;
  }

  /** Installed plugins, then the available ones not installed (status 0, id null). */
  async list(): Promise<PluginOut[]> {
    const rows = await this.prisma.labPlugin.findMany({ orderBy: { id: "asc" } });
    const installed = new Set(rows.map((row) => row.name));
    return [
      ...rows.map((row) => this.out(row)),
      ...(await this.available())
        .filter((plugin) => !installed.has(plugin.name))
        .map((plugin) => ({
          id: null,
          ...plugin,
          status: PLUGIN_STATUS.AVAILABLE,
          enabled: false,
          error: null,
          components: [],
          installed_at: null,
        })),
    ];
  }

  async get(id: number): Promise<PluginOut> {
    return this.out(await this.row(id));
  }

  /** Installs from a folder, a .tgz, or the name of an available plugin; loads it at once. */
  async install(input: { source?: string; name?: string }): Promise<PluginOut> {
    let source = input.source;
    if (!source && input.name) {
      source = (await this.available()).find((plugin) => plugin.name === input.name)?.source;
      if (!source) throw bad("name", `No available plugin named ${input.name}`);
    }
    if (!source) throw bad("source", "Give source (a folder or a .tgz path on the server) or name");
    if (!isAbsolute(source)) throw bad("source", "source must be an absolute path on the server");
    const info = await stat(source).catch(() => null);
    if (!info) throw bad("source", "No file or folder at that path");
    // LAB_DATA_DIR may not exist yet (a fresh server that has stored nothing): a first install made it 500.
    await mkdir(this.root, { recursive: true });
    const staging = await mkdtemp(join(this.dataDir, ".plugin-"));
    try {
      let dir = source;
      if (info.isFile()) {
        if (!/\.(tgz|tar\.gz)$/.test(source)) throw bad("source", "A file source must be a .tgz (npm pack)");
        try {
          // npm pack puts the package under package/.
          await run("tar", ["-xzf", source, "-C", staging, "--strip-components=1", "--no-same-owner"]);
        } catch {
          throw bad("source", "The .tgz could not be unpacked");
        }
        dir = staging;
      } else if (!info.isDirectory()) throw bad("source", "source must be a folder or a .tgz");
      const pkg = await readPackage(dir);
      if (await this.prisma.labPlugin.findUnique({ where: { name: pkg.name } }))
        throw new ConflictError(`Plugin ${pkg.name} is already installed`);
      const target = this.dirOf(pkg.name);
      await rm(target, { recursive: true, force: true });
      await cp(dir, target, { recursive: true, filter: (path) => basename(path) !== ".git" });
      const row = await this.prisma.labPlugin.create({
        data: { name: pkg.name, version: pkg.version, description: pkg.description, source: resolve(source) },
      });
      return this.out(await this.load(row));
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  async setEnabled(id: number, enabled: boolean): Promise<PluginOut> {
    const row = await this.prisma.labPlugin.update({
      where: { id: (await this.row(id)).id },
      data: { enabled },
    });
    if (enabled) return this.out(await this.load(row));
    this.unload(row.name);
    return this.out(await this.prisma.labPlugin.update({ where: { id }, data: { error: null } }));
  }

  async uninstall(id: number): Promise<void> {
    const row = await this.row(id);
    this.unload(row.name);
    await this.prisma.labPlugin.delete({ where: { id } });
    await rm(this.dirOf(row.name), { recursive: true, force: true });
  }

  /** The enabled, loadable plugins' entry files (the training thread imports them). */
  async entries(): Promise<{ name: string; entry: string }[]> {
    const rows = await this.prisma.labPlugin.findMany({
      where: { enabled: true, error: null },
      orderBy: { id: "asc" },
    });
    const out = [];
    for (const row of rows) out.push({ name: row.name, entry: await this.entryOf(row).catch(() => "") });
    return out.filter((plugin) => plugin.entry !== "");
  }
}
