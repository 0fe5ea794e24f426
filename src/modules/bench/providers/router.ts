import { z } from "zod";
import { router, userProcedure } from "../../../trpc/init.js";
import { adminProcedure, clientOf, TAGS } from "../shared/procedures.js";
import { PROVIDER_PARAMS } from "./params.js";
import {
  configSchema,
  createModelSchema,
  createPromptSchema,
  createProviderSchema,
  defaultsSchema,
  discoveredSchema,
  discoverQuerySchema,
  envListSchema,
  envRefSchema,
  envSetSchema,
  keySetSchema,
  keysListSchema,
  modelRefSchema,
  modelSavedSchema,
  okSchema,
  promptRefSchema,
  promptSavedSchema,
  promptsSchema,
  providerAddedSchema,
  providerHealthSchema,
  providerRefSchema,
  registrySchema,
  setEnvSchema,
  setKeySchema,
  updateDefaultsSchema,
  updateModelSchema,
  updateProviderSchema,
  validateParamsSchema,
  validationResultSchema,
} from "./providers.schema.js";

const config = [...TAGS.config];
const keys = [...TAGS.keys];
const params = [...TAGS.params];

export const configRouter = router({
  get: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/config",
        tags: config,
        summary: "The user's providers (keyed by display name), models and defaults",
      },
    })
    .input(z.void())
    .output(configSchema)
    .query(({ ctx }) => ctx.deps.services.benchProviders.config(ctx.principal.userId)),

  updateDefaults: userProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: "/api/config/defaults",
        tags: config,
        summary:
          "Change the benchmark defaults (max_tokens, temperature, context_tiers, prompt, request_timeout_s 30–600)",
      },
    })
    .input(updateDefaultsSchema)
    .output(defaultsSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchProviders.updateDefaults(ctx.principal.userId, input),
    ),

  addProvider: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/config/provider",
        tags: config,
        summary: "Add a provider",
        errorResponses: { 409: "Provider already exists" },
      },
    })
    .input(createProviderSchema)
    .output(providerAddedSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchProviders.addProvider(ctx.principal.userId, input, clientOf(ctx)),
    ),

  updateProvider: userProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: "/api/config/provider",
        tags: config,
        summary: "Change a provider (an empty string removes an optional field)",
        errorResponses: { 404: "Provider not found" },
      },
    })
    .input(updateProviderSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchProviders.updateProvider(ctx.principal.userId, input, clientOf(ctx)),
    ),

  deleteProvider: userProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/config/provider",
        tags: config,
        summary: "Delete a provider, its models and the user's key for it (query or JSON body)",
        errorResponses: { 404: "Provider not found" },
      },
    })
    .input(providerRefSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchProviders.deleteProvider(ctx.principal.userId, input.provider_key),
    ),

  addModel: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/config/model",
        tags: config,
        summary: "Add a model (its id gets the provider's model_id_prefix)",
        errorResponses: { 404: "Provider not found", 409: "Model already exists" },
      },
    })
    .input(createModelSchema)
    .output(modelSavedSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchProviders.addModel(ctx.principal.userId, input)),

  updateModel: userProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: "/api/config/model",
        tags: config,
        summary:
          "Change a model (null max_output_tokens or [] skip_params removes them; a null custom field removes it)",
        errorResponses: { 404: "Model not found", 409: "new_model_id already exists" },
      },
    })
    .input(updateModelSchema)
    .output(modelSavedSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchProviders.updateModel(ctx.principal.userId, input)),

  deleteModel: userProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/config/model",
        tags: config,
        summary: "Delete a model (query or JSON body)",
        errorResponses: { 404: "Model not found" },
      },
    })
    .input(modelRefSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchProviders.deleteModel(ctx.principal.userId, input.provider_key, input.model_id),
    ),

  prompts: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/config/prompts",
        tags: config,
        summary: "Prompt templates, keyed by template key",
      },
    })
    .input(z.void())
    .output(promptsSchema)
    .query(({ ctx }) => ctx.deps.services.benchProviders.prompts(ctx.principal.userId)),

  savePrompt: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/config/prompts",
        tags: config,
        summary: "Add (or replace) a prompt template",
      },
    })
    .input(createPromptSchema)
    .output(promptSavedSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchProviders.savePrompt(ctx.principal.userId, input)),

  deletePrompt: userProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/config/prompts",
        tags: config,
        summary: "Delete a prompt template",
        errorResponses: { 404: "Prompt template not found" },
      },
    })
    .input(promptRefSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchProviders.deletePrompt(ctx.principal.userId, input.key),
    ),

  discover: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/models/discover",
        tags: config,
        summary:
          "The models the provider's API offers (OpenAI-compatible /models, Anthropic, Gemini), prefix applied",
        errorResponses: { 404: "Provider not found", 502: "The provider could not be reached or refused" },
      },
    })
    .input(discoverQuerySchema)
    .output(discoveredSchema)
    .query(({ ctx, input }) =>
      ctx.deps.services.benchProviders.discover(ctx.principal.userId, input.provider_key),
    ),

  health: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/health/providers",
        tags: config,
        summary: "Connectivity and latency of every provider of the user",
      },
    })
    .input(z.void())
    .output(providerHealthSchema)
    .query(({ ctx }) => ctx.deps.services.benchProviders.health(ctx.principal.userId)),
});

export const keysRouter = router({
  list: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/keys",
        tags: keys,
        summary: "Which providers have a key (the user's own, a global one); never the keys",
      },
    })
    .input(z.void())
    .output(keysListSchema)
    .query(({ ctx }) => ctx.deps.services.benchKeys.list(ctx.principal.userId)),

  set: userProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: "/api/keys",
        tags: keys,
        summary: "Set the user's key for a provider (stored encrypted)",
        errorResponses: { 404: "Provider not found" },
      },
    })
    .input(setKeySchema)
    .output(keySetSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchKeys.set(ctx.principal.userId, input.provider_key, input.value, clientOf(ctx)),
    ),

  remove: userProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/keys",
        tags: keys,
        summary: "Remove the user's key for a provider (query or JSON body)",
        errorResponses: { 404: "Key not found" },
      },
    })
    .input(providerRefSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchKeys.remove(ctx.principal.userId, input.provider_key, clientOf(ctx)),
    ),

  envList: adminProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/env",
        tags: keys,
        summary: "Global environment keys, masked (admin)",
        errorResponses: { 403: "Admin access required" },
      },
    })
    .input(z.void())
    .output(envListSchema)
    .query(({ ctx }) => ctx.deps.services.benchKeys.listEnv()),

  envSet: adminProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: "/api/env",
        tags: keys,
        summary: "Set a global environment key (admin; stored encrypted)",
        errorResponses: { 403: "Admin access required" },
      },
    })
    .input(setEnvSchema)
    .output(envSetSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchKeys.setEnv(input.name, input.value, ctx.principal, clientOf(ctx)),
    ),

  envRemove: adminProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/env",
        tags: keys,
        summary: "Remove a global environment key (admin; query or JSON body)",
        errorResponses: { 403: "Admin access required", 404: "Key not found" },
      },
    })
    .input(envRefSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchKeys.removeEnv(input.name, ctx.principal, clientOf(ctx)),
    ),
});

export const providerParamsRouter = router({
  registry: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/provider-params/registry",
        tags: params,
        summary: "Parameter ranges, support and conflicts per provider kind",
      },
    })
    .input(z.void())
    .output(registrySchema)
    .query(() => ({ providers: PROVIDER_PARAMS as unknown as Record<string, Record<string, unknown>> })),

  validate: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/provider-params/validate",
        tags: params,
        summary:
          "Clamp and check parameters (temperature, top_p, max_tokens, passthrough...) for a provider and model",
      },
    })
    .input(validateParamsSchema)
    .output(validationResultSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchProviders.validateParams(ctx.principal.userId, input),
    ),
});
