// The generative tasks and models the registry lists (GET /api/v1/component/?select_types=GenerativeTask,
// ?related_component=<task>): DashAI's task names, and one model per task that calls an OpenAI-compatible
// endpoint. The endpoint is the session's own (`base_url`, `model`, `api_key`) or a bench user's provider
// model (`bench_user`, `bench_model`); the key is sealed apart from the parameters and never returned.
import { z } from "zod";
import type { Localized } from "../engine/params.js";

export const TEXT_TASK = "TextToTextGenerationTask";
export const IMAGE_TASK = "TextToImageGenerationTask";
export const TEXT_MODEL = "OpenAICompatibleChatModel";
export const IMAGE_MODEL = "OpenAICompatibleImageModel";
export type GenerativeTask = typeof TEXT_TASK | typeof IMAGE_TASK;

const L = (en: string, es: string): Localized => ({ en, es });

/** A parameter with Spanish strings beside the English ones (the registry swaps them for Accept-Language: es). */
const described = <T extends z.ZodType>(schema: T, en: [string, string], es: [string, string]): T =>
  schema.meta({
    title: en[0],
    description: en[1],
    "x-display-name-es": es[0],
    "x-description-es": es[1],
  }) as T;

const endpointShape = {
  base_url: described(
    z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .optional(),
    ["Base URL", "The OpenAI-compatible API root, e.g. https://api.openai.com/v1 (with bench_user: unused)."],
    ["URL base", "La raíz de la API compatible con OpenAI, p. ej. https://api.openai.com/v1."],
  ),
  model: described(
    z.string().min(1).max(200).optional(),
    ["Model", "The model name the endpoint knows."],
    ["Modelo", "El nombre del modelo que conoce el endpoint."],
  ),
  api_key: described(
    z.string().min(1).max(4000).optional(),
    ["API key", "Sent as a Bearer token; stored encrypted, never returned."],
    ["Clave de API", "Se envía como token Bearer; se guarda cifrada y nunca se devuelve."],
  ),
  bench_user: described(
    z.email().max(320).optional(),
    ["Bench user", "Use this bench user's provider configuration instead of base_url/model/api_key."],
    ["Usuario de bench", "Usar la configuración de proveedores de este usuario de bench."],
  ),
  bench_model: described(
    z.string().min(1).max(300).optional(),
    ["Bench model", "The model id in that user's bench configuration (e.g. local/gpt-4o-mini)."],
    ["Modelo de bench", "El id del modelo en la configuración de bench de ese usuario."],
  ),
};

export const textModelParams = z.object({
  ...endpointShape,
  system_prompt: described(
    z.string().max(20_000).default(""),
    ["System prompt", "Sent first as the system message (nothing when empty)."],
    ["Prompt de sistema", "Se envía primero como mensaje de sistema (nada si está vacío)."],
  ),
  temperature: described(
    z.number().min(0).max(2).default(0.7),
    ["Temperature", "Sampling temperature, 0 to 2."],
    ["Temperatura", "Temperatura de muestreo, de 0 a 2."],
  ),
  max_tokens: described(
    z.int().min(1).max(128_000).default(512),
    ["Max tokens", "Most tokens to generate."],
    ["Máximo de tokens", "Máximo de tokens a generar."],
  ),
  history_turns: described(
    z.int().min(0).max(50).default(10),
    ["History turns", "Earlier finished exchanges of the session sent as context."],
    ["Turnos de historial", "Intercambios anteriores de la sesión enviados como contexto."],
  ),
});

export const imageModelParams = z.object({
  ...endpointShape,
  size: described(
    z.enum(["256x256", "512x512", "1024x1024", "1024x1792", "1792x1024"]).default("512x512"),
    ["Size", "Width x height of each image."],
    ["Tamaño", "Ancho x alto de cada imagen."],
  ),
  n: described(
    z.int().min(1).max(4).default(1),
    ["Images", "How many images per prompt."],
    ["Imágenes", "Cuántas imágenes por prompt."],
  ),
});

export const MODEL_PARAMS = { [TEXT_MODEL]: textModelParams, [IMAGE_MODEL]: imageModelParams } as const;
export const TASK_OF_MODEL = { [TEXT_MODEL]: TEXT_TASK, [IMAGE_MODEL]: IMAGE_TASK } as const;
export type GenerativeModel = keyof typeof MODEL_PARAMS;

export const GENERATIVE_COMPONENTS = [
  {
    name: TEXT_TASK,
    type: "GenerativeTask" as const,
    tasks: [TEXT_TASK],
    displayName: L("Text to Text", "Texto a Texto"),
    description: L(
      "Generate text from a prompt with a large language model, as a chat (earlier turns are sent as context).",
      "Generar texto a partir de un prompt con un modelo de lenguaje, como un chat (los turnos anteriores se envían como contexto).",
    ),
    schema: z.object({}),
  },
  {
    name: IMAGE_TASK,
    type: "GenerativeTask" as const,
    tasks: [IMAGE_TASK],
    displayName: L("Text to Image", "Texto a Imagen"),
    description: L("Generate images from a text prompt.", "Generar imágenes a partir de un texto."),
    schema: z.object({}),
  },
  {
    name: TEXT_MODEL,
    type: "Model" as const,
    tasks: [TEXT_TASK],
    displayName: L("OpenAI-compatible chat model", "Modelo de chat compatible con OpenAI"),
    description: L(
      "Any endpoint speaking OpenAI's chat completions protocol (streamed).",
      "Cualquier endpoint que hable el protocolo de chat completions de OpenAI (en streaming).",
    ),
    schema: textModelParams,
  },
  {
    name: IMAGE_MODEL,
    type: "Model" as const,
    tasks: [IMAGE_TASK],
    displayName: L("OpenAI-compatible image model", "Modelo de imágenes compatible con OpenAI"),
    description: L(
      "Any endpoint speaking OpenAI's images/generations protocol.",
      "Cualquier endpoint que hable el protocolo images/generations de OpenAI.",
    ),
    schema: imageModelParams,
  },
];
