import type { Prisma, PrismaClient } from "../../../generated/prisma/client.js";
import type { AuditLog, ClientInfo } from "../admin/audit.js";
import { DEFAULT_DEFAULTS, inferKind } from "../providers/defaults.js";
import { prefixed, type ProviderService } from "../providers/service.js";
import {
  type Phase10,
  phase10Schema,
  type settingsBackupSchema,
  type updatePhase10Schema,
} from "./settings.schema.js";
import type { z } from "zod";

export const DEFAULT_PHASE10: Phase10 = {
  judge: { enabled: false, model_id: "", mode: "post_eval", temperature: 0, max_tokens: 4096 },
  param_tuner: {
    max_combinations: 50,
    temp_min: 0,
    temp_max: 1,
    temp_step: 0.5,
    top_p_min: 0.5,
    top_p_max: 1,
    top_p_step: 0.25,
  },
  prompt_tuner: { mode: "quick", generations: 3, population_size: 5, max_api_calls: 100 },
};

type Phase10Changes = z.infer<typeof updatePhase10Schema>;

/** Per-user settings: phase10 (judge and tuners), onboarding, and the settings backup and restore. */
export class SettingsService {
  constructor(private readonly deps: { prisma: PrismaClient; providers: ProviderService; audit: AuditLog }) {}

  async phase10(userId: string): Promise<Phase10> {
    const row = await this.deps.prisma.benchUserSettings.findUnique({ where: { userId } });
    return mergePhase10(DEFAULT_PHASE10, (row?.phase10 ?? {}) as Phase10Changes);
  }

  async updatePhase10(userId: string, changes: Phase10Changes): Promise<{ ok: true }> {
    const merged = mergePhase10(await this.phase10(userId), changes);
    await this.deps.prisma.benchUserSettings.upsert({
      where: { userId },
      create: { userId, defaults: DEFAULT_DEFAULTS, phase10: merged },
      update: { phase10: merged },
    });
    return { ok: true };
  }

  async onboarding(userId: string) {
    const row = await this.deps.prisma.benchUserSettings.findUnique({
      where: { userId },
      select: { onboardingCompleted: true },
    });
    return { completed: row?.onboardingCompleted ?? false };
  }

  async completeOnboarding(userId: string) {
    await this.deps.prisma.benchUserSettings.upsert({
      where: { userId },
      create: { userId, defaults: DEFAULT_DEFAULTS, onboardingCompleted: true },
      update: { onboardingCompleted: true },
    });
    return { status: "ok" as const };
  }

  /** `GET /api/export/settings`: defaults, providers keyed by provider_key with their models, prompts, phase10; no secret. */
  async exportSettings(userId: string) {
    const [defaults, providers, prompts, phase10, keys] = await Promise.all([
      this.deps.providers.defaults(userId),
      this.deps.providers.providers(userId),
      this.deps.providers.prompts(userId),
      this.phase10(userId),
      this.deps.prisma.benchProviderKey.findMany({ where: { userId }, select: { providerKey: true } }),
    ]);
    return {
      export_version: 1 as const,
      exported_at: new Date().toISOString(),
      defaults,
      providers: Object.fromEntries(
        providers.map((p) => [
          p.providerKey,
          {
            display_name: p.displayName,
            kind: p.kind as "openai",
            api_base: p.apiBase ?? "",
            api_key_env: p.apiKeyEnv ?? "",
            model_id_prefix: p.modelIdPrefix ?? "",
            timeout_s: p.timeoutSeconds,
            models: p.models.map((m) => ({
              model_id: m.modelId,
              display_name: m.displayName,
              context_window: m.contextWindow,
              max_output_tokens: m.maxOutputTokens,
              skip_params: m.skipParams,
              input_cost_per_mtok: m.inputCostPerMtok,
              output_cost_per_mtok: m.outputCostPerMtok,
              custom_fields: m.customFields as Record<string, unknown>,
            })),
          },
        ]),
      ),
      prompts,
      phase10,
      // Which providers had a key, so a restore can tell what to set again (never the keys).
      api_keys: keys.map((k) => ({
        provider_key: k.providerKey,
        key_name: providers.find((p) => p.providerKey === k.providerKey)?.apiKeyEnv ?? "",
      })),
    };
  }

  /**
   * `POST /api/import/settings`: validated as a whole first (422 naming the field, nothing stored), then applied
   * in one transaction: providers added or updated (their models upserted by model_id), prompts upserted,
   * defaults and phase10 merged. Keys are never imported.
   */
  async importSettings(userId: string, backup: z.infer<typeof settingsBackupSchema>, client: ClientInfo) {
    const { prisma } = this.deps;
    const defaults = { ...(await this.deps.providers.defaults(userId)), ...backup.defaults };
    const phase10 = backup.phase10 ? mergePhase10(await this.phase10(userId), backup.phase10) : undefined;
    let added = 0;
    let updated = 0;
    await prisma.$transaction(async (tx) => {
      let position = await tx.benchProvider.count({ where: { userId } });
      for (const [providerKey, p] of Object.entries(backup.providers)) {
        const existing = await tx.benchProvider.findUnique({
          where: { userId_providerKey: { userId, providerKey } },
        });
        const fields = {
          ...(p.display_name !== undefined && { displayName: p.display_name || providerKey }),
          ...(p.api_base !== undefined && { apiBase: p.api_base || null }),
          ...(p.api_key_env !== undefined && { apiKeyEnv: p.api_key_env || null }),
          ...(p.model_id_prefix !== undefined && { modelIdPrefix: p.model_id_prefix || null }),
          ...(p.timeout_s !== undefined && { timeoutSeconds: p.timeout_s }),
          ...(p.kind !== undefined && { kind: p.kind }),
        };
        const provider = existing
          ? await tx.benchProvider.update({ where: { id: existing.id }, data: fields })
          : await tx.benchProvider.create({
              data: {
                userId,
                providerKey,
                displayName: p.display_name || providerKey,
                kind: p.kind ?? inferKind(providerKey, p.model_id_prefix, p.api_base),
                apiBase: p.api_base || null,
                apiKeyEnv: p.api_key_env || null,
                modelIdPrefix: p.model_id_prefix || null,
                timeoutSeconds: p.timeout_s ?? null,
                position: position++,
              },
            });
        if (existing) updated++;
        else added++;
        for (const [index, m] of p.models.entries()) {
          const modelId = prefixed(provider.modelIdPrefix, m.model_id);
          const data = {
            ...(m.display_name !== undefined && { displayName: m.display_name || modelId }),
            ...(m.context_window !== undefined && { contextWindow: m.context_window }),
            ...(m.max_output_tokens !== undefined && { maxOutputTokens: m.max_output_tokens }),
            ...(m.skip_params !== undefined && { skipParams: m.skip_params }),
            ...(m.input_cost_per_mtok !== undefined && { inputCostPerMtok: m.input_cost_per_mtok }),
            ...(m.output_cost_per_mtok !== undefined && { outputCostPerMtok: m.output_cost_per_mtok }),
            ...(m.custom_fields !== undefined && { customFields: m.custom_fields as Prisma.InputJsonValue }),
          };
          await tx.benchModel.upsert({
            where: { providerId_modelId: { providerId: provider.id, modelId } },
            create: { providerId: provider.id, modelId, displayName: modelId, position: index, ...data },
            update: data,
          });
        }
      }
      for (const [key, prompt] of Object.entries(backup.prompts ?? {})) {
        const data = {
          label: prompt.label || key,
          category: prompt.category || "general",
          prompt: prompt.prompt,
        };
        await tx.benchPromptTemplate.upsert({
          where: { userId_key: { userId, key } },
          create: { userId, key, ...data },
          update: data,
        });
      }
      await tx.benchUserSettings.upsert({
        where: { userId },
        create: { userId, defaults, ...(phase10 && { phase10 }) },
        update: { defaults, ...(phase10 && { phase10 }) },
      });
    });
    await this.deps.audit.record({
      userId,
      action: "settings_imported",
      detail: `${added} providers added, ${updated} updated`,
      client,
    });
    return {
      status: "ok" as const,
      providers_imported: added + updated,
      providers_updated: updated,
      providers_added: added,
    };
  }
}

function mergePhase10(base: Phase10, changes: Phase10Changes): Phase10 {
  const merged = {
    judge: { ...base.judge, ...stripUndefined(changes.judge) },
    param_tuner: { ...base.param_tuner, ...stripUndefined(changes.param_tuner) },
    prompt_tuner: { ...base.prompt_tuner, ...stripUndefined(changes.prompt_tuner) },
  };
  const parsed = phase10Schema.safeParse(merged);
  return parsed.success ? parsed.data : base;
}

function stripUndefined<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
