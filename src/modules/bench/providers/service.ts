import type { Prisma, PrismaClient } from "../../../generated/prisma/client.js";
import { AppError, ConflictError, NotFoundError, ValidationError } from "../../../platform/errors.js";
import type { ClientInfo } from "../admin/audit.js";
import { DEFAULT_API_BASE, DEFAULT_DEFAULTS, inferKind, SEED_PROMPTS, SEED_PROVIDERS } from "./defaults.js";
import { DiscoveryError, discoverModels } from "./discovery.js";
import type { KeyService } from "./keys.service.js";
import { registryKeyFor, validateParams } from "./params.js";
import {
  type BenchDefaults,
  defaultsSchema,
  PROVIDER_KINDS,
  type ProviderKind,
  type createModelSchema,
  type createProviderSchema,
  type updateModelSchema,
} from "./providers.schema.js";
import type { z } from "zod";

type Tx = Prisma.TransactionClient;
type ProviderRow = Prisma.BenchProviderGetPayload<{ include: { models: true } }>;
type ModelRow = ProviderRow["models"][number];

/** How long discovery and the health check wait for a provider. */
const DISCOVERY_TIMEOUT_MS = 10_000;
const HEALTH_TIMEOUT_MS = 5_000;

/** Everything bench-runner needs to call one model of a user's config (see `ProviderService.resolveModels`). */
export interface ResolvedModel {
  providerKey: string;
  /** The provider's display name (what SSE events call `provider`). */
  providerName: string;
  kind: ProviderKind;
  /** Base URL of the provider's API (the kind's official one when the provider sets none). */
  apiBase: string;
  /** Decrypted key (user key, else admin env key, else process env), or null: never log it. */
  apiKey: string | null;
  /** The model name the provider knows (our prefix removed): `claude-sonnet-4-5`. */
  model: string;
  /** The full id as configured and as benchmarks name it: `anthropic/claude-sonnet-4-5`. */
  modelId: string;
  displayName: string;
  contextWindow: number;
  maxOutputTokens: number | null;
  /** Parameters not to send to this model (upstream's skip_params). */
  skipParams: string[];
  /** The model entry's custom fields (upstream passes them to the call). */
  params: Record<string, unknown>;
  /** Per-call timeout: the provider's timeout_s, else the user's default request_timeout_s. */
  timeoutMs: number;
  /** USD per million tokens; 0 when unknown. */
  prices: { inputPerMTok: number; outputPerMTok: number };
}

const OFFICIAL_HOSTS: Partial<Record<ProviderKind, RegExp>> = {
  openai: /^https:\/\/api\.openai\.com(\/|$)/i,
  anthropic: /^https:\/\/api\.anthropic\.com(\/|$)/i,
  gemini: /^https:\/\/generativelanguage\.googleapis\.com(\/|$)/i,
};

/**
 * A user's providers, models, prompt templates and benchmark defaults (upstream's per-user config.yaml), in
 * upstream's wire shapes; discovery and health checks against the providers; and `resolveModels`, which
 * turns benchmark model ids into what a call needs.
 */
export class ProviderService {
  constructor(private readonly deps: { prisma: PrismaClient; keys: KeyService }) {}

  /** A new user's config: the seed providers and models, prompt templates, default settings. */
  async seedDefaults(tx: Tx, userId: string): Promise<void> {
    for (const [position, seed] of SEED_PROVIDERS.entries()) {
      await tx.benchProvider.create({
        data: {
          userId,
          providerKey: seed.providerKey,
          displayName: seed.displayName,
          kind: seed.kind,
          apiKeyEnv: seed.apiKeyEnv,
          modelIdPrefix: seed.modelIdPrefix,
          position,
          models: {
            create: seed.models.map((model, index) => ({
              modelId: model.id,
              displayName: model.displayName,
              contextWindow: model.contextWindow,
              inputCostPerMtok: model.input,
              outputCostPerMtok: model.output,
              position: index,
            })),
          },
        },
      });
    }
    await tx.benchPromptTemplate.createMany({ data: SEED_PROMPTS.map((prompt) => ({ userId, ...prompt })) });
    await tx.benchUserSettings.create({ data: { userId, defaults: DEFAULT_DEFAULTS } });
  }

  async defaults(userId: string): Promise<BenchDefaults> {
    const settings = await this.deps.prisma.benchUserSettings.findUnique({ where: { userId } });
    const parsed = defaultsSchema.safeParse({
      ...DEFAULT_DEFAULTS,
      ...(settings?.defaults as object | null),
    });
    return parsed.success ? parsed.data : DEFAULT_DEFAULTS;
  }

  async updateDefaults(userId: string, changes: Partial<BenchDefaults>): Promise<BenchDefaults> {
    const merged = { ...(await this.defaults(userId)), ...stripUndefined(changes) };
    await this.deps.prisma.benchUserSettings.upsert({
      where: { userId },
      create: { userId, defaults: merged },
      update: { defaults: merged },
    });
    return merged;
  }

  async providers(userId: string): Promise<ProviderRow[]> {
    return this.deps.prisma.benchProvider.findMany({
      where: { userId },
      include: { models: { orderBy: [{ position: "asc" }, { modelId: "asc" }] } },
      orderBy: [{ position: "asc" }, { createdAt: "asc" }],
    });
  }

  /** `GET /api/config`: providers keyed by display name (a repeated name gets its key appended, so none is lost). */
  async config(userId: string) {
    const [defaults, providers, keyed] = await Promise.all([
      this.defaults(userId),
      this.providers(userId),
      this.deps.prisma.benchProviderKey.findMany({ where: { userId }, select: { providerKey: true } }),
    ]);
    const withKey = new Set(keyed.map((k) => k.providerKey));
    const byName: Record<string, ReturnType<typeof providerOut>> = {};
    for (const provider of providers) {
      const name =
        provider.displayName in byName
          ? `${provider.displayName} (${provider.providerKey})`
          : provider.displayName;
      byName[name] = providerOut(provider, withKey.has(provider.providerKey));
    }
    return { defaults, providers: byName };
  }

  async addProvider(userId: string, input: z.infer<typeof createProviderSchema>, client: ClientInfo) {
    const { prisma } = this.deps;
    const exists = await prisma.benchProvider.findUnique({
      where: { userId_providerKey: { userId, providerKey: input.provider_key } },
      select: { id: true },
    });
    if (exists) throw new ConflictError(`Provider '${input.provider_key}' already exists`);
    const position = await prisma.benchProvider.count({ where: { userId } });
    await prisma.benchProvider.create({
      data: {
        userId,
        providerKey: input.provider_key,
        displayName: input.display_name || input.provider_key,
        kind: input.kind ?? inferKind(input.provider_key, input.model_id_prefix, input.api_base),
        apiBase: input.api_base || null,
        apiKeyEnv: input.api_key_env || null,
        modelIdPrefix: input.model_id_prefix || null,
        timeoutSeconds: input.timeout_s ?? null,
        position,
      },
    });
    if (input.api_key) await this.deps.keys.set(userId, input.provider_key, input.api_key, client);
    return { status: "ok" as const, provider_key: input.provider_key };
  }

  /** Changes the fields given; an empty string removes an optional one (as upstream). */
  async updateProvider(userId: string, input: z.infer<typeof createProviderSchema>, client: ClientInfo) {
    const provider = await this.provider(userId, input.provider_key);
    const data: Prisma.BenchProviderUpdateInput = {};
    if (input.display_name !== undefined) data.displayName = input.display_name || provider.providerKey;
    if (input.api_base !== undefined) data.apiBase = input.api_base || null;
    if (input.api_key_env !== undefined) data.apiKeyEnv = input.api_key_env || null;
    if (input.model_id_prefix !== undefined) data.modelIdPrefix = input.model_id_prefix || null;
    if (input.timeout_s !== undefined) data.timeoutSeconds = input.timeout_s;
    if (input.kind !== undefined) data.kind = input.kind;
    await this.deps.prisma.benchProvider.update({ where: { id: provider.id }, data });
    if (input.api_key) await this.deps.keys.set(userId, input.provider_key, input.api_key, client);
    else if (input.api_key === "" && (await this.deps.keys.hasUserKey(userId, input.provider_key)))
      await this.deps.keys.remove(userId, input.provider_key, client);
    return { status: "ok" as const };
  }

  async deleteProvider(userId: string, providerKey: string) {
    const provider = await this.provider(userId, providerKey);
    await this.deps.prisma.$transaction([
      this.deps.prisma.benchProviderKey.deleteMany({ where: { userId, providerKey } }),
      this.deps.prisma.benchProvider.delete({ where: { id: provider.id } }),
    ]);
    return { status: "ok" as const };
  }

  async addModel(userId: string, input: z.infer<typeof createModelSchema>) {
    const provider = await this.provider(userId, input.provider_key);
    const modelId = prefixed(provider.modelIdPrefix, input.id);
    if (provider.models.some((model) => model.modelId === modelId))
      throw new ConflictError(`Model '${modelId}' already exists in '${provider.providerKey}'`);
    await this.deps.prisma.benchModel.create({
      data: {
        providerId: provider.id,
        modelId,
        displayName: input.display_name || modelId,
        ...(input.context_window !== undefined && { contextWindow: input.context_window }),
        maxOutputTokens: input.max_output_tokens ?? null,
        skipParams: input.skip_params ?? [],
        inputCostPerMtok: input.input_cost_per_mtok ?? null,
        outputCostPerMtok: input.output_cost_per_mtok ?? null,
        customFields: cleanCustom({}, input.custom_fields) as Prisma.InputJsonValue,
        position: provider.models.length,
      },
    });
    return { status: "ok" as const, model_id: modelId };
  }

  async updateModel(userId: string, input: z.infer<typeof updateModelSchema>) {
    const model = await this.findModel(userId, input.model_id, input.provider_key);
    const data: Prisma.BenchModelUpdateInput = {};
    let modelId = model.modelId;
    if (input.new_model_id !== undefined) {
      modelId = prefixed(model.provider.modelIdPrefix, input.new_model_id);
      if (modelId !== model.modelId) {
        const taken = await this.deps.prisma.benchModel.count({
          where: { providerId: model.providerId, modelId },
        });
        if (taken > 0)
          throw new ConflictError(`Model '${modelId}' already exists in '${model.provider.providerKey}'`);
        data.modelId = modelId;
      }
    }
    if (input.display_name !== undefined) data.displayName = input.display_name || modelId;
    if (input.context_window !== undefined) data.contextWindow = input.context_window;
    if (input.max_output_tokens !== undefined) data.maxOutputTokens = input.max_output_tokens;
    if (input.skip_params !== undefined) data.skipParams = input.skip_params;
    if (input.input_cost_per_mtok !== undefined) data.inputCostPerMtok = input.input_cost_per_mtok;
    if (input.output_cost_per_mtok !== undefined) data.outputCostPerMtok = input.output_cost_per_mtok;
    if (input.custom_fields !== undefined)
      data.customFields = cleanCustom(
        model.customFields as Record<string, unknown>,
        input.custom_fields,
      ) as Prisma.InputJsonValue;
    await this.deps.prisma.benchModel.update({ where: { id: model.id }, data });
    return { status: "ok" as const, model_id: modelId };
  }

  async deleteModel(userId: string, providerKey: string, modelId: string) {
    const model = await this.findModel(userId, modelId, providerKey);
    await this.deps.prisma.benchModel.delete({ where: { id: model.id } });
    return { status: "ok" as const };
  }

  // ── prompt templates ─────────────────────────────────────────────────────────────────────────────────

  async prompts(userId: string) {
    const rows = await this.deps.prisma.benchPromptTemplate.findMany({
      where: { userId },
      orderBy: { createdAt: "asc" },
    });
    return Object.fromEntries(
      rows.map((row) => [row.key, { category: row.category, label: row.label, prompt: row.prompt }]),
    );
  }

  async savePrompt(
    userId: string,
    input: { key: string; label?: string; category?: string; prompt: string },
  ) {
    const data = {
      label: input.label || input.key,
      category: input.category || "general",
      prompt: input.prompt,
    };
    await this.deps.prisma.benchPromptTemplate.upsert({
      where: { userId_key: { userId, key: input.key } },
      create: { userId, key: input.key, ...data },
      update: data,
    });
    return { status: "ok" as const, key: input.key };
  }

  async deletePrompt(userId: string, key: string) {
    const removed = await this.deps.prisma.benchPromptTemplate.deleteMany({ where: { userId, key } });
    if (removed.count === 0) throw new NotFoundError("Prompt template not found");
    return { status: "ok" as const };
  }

  // ── talking to providers ─────────────────────────────────────────────────────────────────────────────

  /** `GET /api/models/discover`: the provider's models, with our prefix applied to their ids. */
  async discover(userId: string, providerKey: string) {
    const provider = await this.provider(userId, providerKey);
    const target = await this.target(userId, provider);
    try {
      const models = await discoverModels(target, DISCOVERY_TIMEOUT_MS);
      return {
        models: models
          .map((model) => ({
            id: prefixed(provider.modelIdPrefix, model.id),
            display_name: model.display_name,
          }))
          .sort((a, b) => a.id.localeCompare(b.id)),
      };
    } catch (error) {
      if (error instanceof DiscoveryError) throw badGateway(scrub(error.message, target.apiKey));
      throw error;
    }
  }

  /** `GET /api/health/providers`: every provider's models endpoint, in parallel, with its latency. */
  async health(userId: string) {
    const providers = await this.providers(userId);
    const results = await Promise.all(
      providers.map(async (provider) => {
        const target = await this.target(userId, provider);
        const started = performance.now();
        try {
          await discoverModels(target, HEALTH_TIMEOUT_MS);
          return {
            name: provider.displayName,
            provider_key: provider.providerKey,
            status: "ok" as const,
            latency_ms: round(performance.now() - started),
          };
        } catch (error) {
          const message = error instanceof DiscoveryError ? error.message : "Check failed";
          return {
            name: provider.displayName,
            provider_key: provider.providerKey,
            status: "error" as const,
            latency_ms: round(performance.now() - started),
            error: scrub(message, target.apiKey),
          };
        }
      }),
    );
    return { providers: results };
  }

  /**
   * For bench-runner: each benchmark model id (exact, as `/api/config` lists it) → what a call needs, once
   * per provider that holds it; `missing` lists the ids no provider of the user has.
   */
  async resolveModels(
    userId: string,
    modelIds: string[],
  ): Promise<{ resolved: ResolvedModel[]; missing: string[] }> {
    const [providers, defaults] = await Promise.all([this.providers(userId), this.defaults(userId)]);
    const resolved: ResolvedModel[] = [];
    const missing: string[] = [];
    const keys = new Map<string, Promise<string | null>>();
    for (const id of modelIds) {
      let found = false;
      for (const provider of providers) {
        const model = provider.models.find((m) => m.modelId === id);
        if (!model) continue;
        found = true;
        let key = keys.get(provider.providerKey);
        if (!key) {
          key = this.target(userId, provider).then((target) => target.apiKey);
          keys.set(provider.providerKey, key);
        }
        resolved.push(resolvedModel(provider, model, await key, defaults.request_timeout_s));
      }
      if (!found) missing.push(id);
    }
    return { resolved, missing };
  }

  /** `POST /api/provider-params/validate`: the registry entry of the user's provider (or of the model id's prefix). */
  async validateParams(
    userId: string,
    input: { provider_key?: string; model_id: string; params: Record<string, unknown> },
  ) {
    const provider = input.provider_key
      ? await this.deps.prisma.benchProvider.findUnique({
          where: { userId_providerKey: { userId, providerKey: input.provider_key } },
          select: { kind: true },
        })
      : null;
    return validateParams(
      registryKeyFor(input.model_id, input.provider_key, provider?.kind),
      input.model_id,
      input.params,
    );
  }

  /** One model of one provider (the provider named, or the first that holds the id). */
  async resolveModel(userId: string, modelId: string, providerKey?: string): Promise<ResolvedModel> {
    const { resolved } = await this.resolveModels(userId, [modelId]);
    const match = resolved.find((model) => !providerKey || model.providerKey === providerKey);
    if (!match) throw new NotFoundError(`Model '${modelId}' not found in your config`);
    return match;
  }

  /**
   * One model of the config of the bench user with that email (another module's call, e.g. lab's generative
   * sessions): 404 when there is no such user or the model is not in their config.
   */
  async resolveModelOf(email: string, modelId: string): Promise<ResolvedModel> {
    const user = await this.deps.prisma.benchUser.findUnique({
      where: { email: email.trim().toLowerCase() },
      select: { id: true },
    });
    if (!user) throw new NotFoundError(`No bench user '${email}'`);
    return this.resolveModel(user.id, modelId);
  }

  async provider(userId: string, providerKey: string): Promise<ProviderRow> {
    const provider = await this.deps.prisma.benchProvider.findUnique({
      where: { userId_providerKey: { userId, providerKey } },
      include: { models: { orderBy: [{ position: "asc" }, { modelId: "asc" }] } },
    });
    if (!provider) throw new NotFoundError("Provider not found");
    return provider;
  }

  private async findModel(userId: string, modelId: string, providerKey?: string) {
    const model = await this.deps.prisma.benchModel.findFirst({
      where: { modelId, provider: { userId, ...(providerKey && { providerKey }) } },
      include: { provider: true },
      orderBy: { provider: { position: "asc" } },
    });
    if (!model) throw new NotFoundError("Model not found");
    return model;
  }

  private async target(
    userId: string,
    provider: { providerKey: string; kind: string; apiBase: string | null; apiKeyEnv: string | null },
  ) {
    const kind = kindOf(provider.kind);
    const apiBase = provider.apiBase || DEFAULT_API_BASE[kind];
    const official = OFFICIAL_HOSTS[kind]?.test(apiBase) ?? false;
    const apiKey = await this.deps.keys.resolve(userId, provider.providerKey, provider.apiKeyEnv, official);
    return { kind, apiBase, apiKey };
  }
}

function kindOf(kind: string): ProviderKind {
  return (PROVIDER_KINDS as readonly string[]).includes(kind) ? (kind as ProviderKind) : "openai_compatible";
}

function resolvedModel(
  provider: ProviderRow,
  model: ModelRow,
  apiKey: string | null,
  defaultTimeoutS: number,
): ResolvedModel {
  const kind = kindOf(provider.kind);
  const prefix = provider.modelIdPrefix ? `${provider.modelIdPrefix}/` : "";
  return {
    providerKey: provider.providerKey,
    providerName: provider.displayName,
    kind,
    apiBase: provider.apiBase || DEFAULT_API_BASE[kind],
    apiKey,
    model: prefix && model.modelId.startsWith(prefix) ? model.modelId.slice(prefix.length) : model.modelId,
    modelId: model.modelId,
    displayName: model.displayName,
    contextWindow: model.contextWindow,
    maxOutputTokens: model.maxOutputTokens,
    skipParams: model.skipParams,
    params: (model.customFields as Record<string, unknown>) ?? {},
    timeoutMs: (provider.timeoutSeconds ?? defaultTimeoutS) * 1000,
    prices: { inputPerMTok: model.inputCostPerMtok ?? 0, outputPerMTok: model.outputCostPerMtok ?? 0 },
  };
}

function providerOut(provider: ProviderRow, hasUserKey: boolean) {
  return {
    provider_key: provider.providerKey,
    display_name: provider.displayName,
    kind: kindOf(provider.kind),
    api_base: provider.apiBase ?? "",
    api_key_env: provider.apiKeyEnv ?? "",
    api_key: hasUserKey ? ("***" as const) : ("" as const),
    model_id_prefix: provider.modelIdPrefix ?? "",
    timeout_s: provider.timeoutSeconds,
    models: provider.models.map(modelOut),
  };
}

export function modelOut(model: ModelRow) {
  return {
    ...(model.customFields as Record<string, unknown>),
    model_id: model.modelId,
    display_name: model.displayName,
    context_window: model.contextWindow,
    max_output_tokens: model.maxOutputTokens,
    skip_params: model.skipParams,
    input_cost_per_mtok: model.inputCostPerMtok,
    output_cost_per_mtok: model.outputCostPerMtok,
  };
}

/** `P/x` for a provider with prefix P, unless the id already starts with `P/` (upstream's rule). */
export function prefixed(prefix: string | null, id: string): string {
  if (!prefix) return id;
  return id.startsWith(`${prefix}/`) ? id : `${prefix}/${id}`;
}

const RESERVED_MODEL_FIELDS = new Set([
  "model_id",
  "id",
  "display_name",
  "context_window",
  "max_output_tokens",
  "skip_params",
  "input_cost_per_mtok",
  "output_cost_per_mtok",
]);

function cleanCustom(current: Record<string, unknown>, changes: Record<string, unknown> | undefined) {
  const next = { ...current };
  for (const [key, value] of Object.entries(changes ?? {})) {
    if (RESERVED_MODEL_FIELDS.has(key))
      throw ValidationError.field(["body", "custom_fields", key], "is a model field, not a custom one");
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A message about a provider with its key removed, should the provider have echoed it. */
export function scrub(message: string, secret: string | null): string {
  return secret && secret.length >= 4 ? message.split(secret).join("***") : message;
}

export function badGateway(message: string): AppError {
  return new AppError("BAD_GATEWAY", 502, message);
}

const round = (ms: number) => Math.round(ms * 10) / 10;
