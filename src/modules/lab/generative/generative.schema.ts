// Wire shapes of /api/v1/generative-session and /api/v1/generative-process (DashAI's: a process carries
// `input` and `output` lists of ProcessData rows, `data_type` "str" or "Image", status an int).
import { z } from "zod";
import { labIdSchema } from "../datasets/datasets.schema.js";

const sessionName = z.string().trim().min(1, "must not be blank").max(255);
const parameters = z.record(z.string(), z.unknown());

export const generativeSessionIdSchema = z.object({
  session_id: labIdSchema.describe("Generative session id"),
});
export const generativeProcessIdSchema = z.object({
  process_id: labIdSchema.describe("Generative process id"),
});

export const createGenerativeSessionSchema = z.object({
  task_name: z.string().min(1).max(100),
  model_name: z.string().min(1).max(100),
  name: sessionName,
  description: z.string().max(10_000).nullable().optional(),
  parameters: parameters
    .default({})
    .describe(
      "The model's parameters (GET /api/v1/component/{model_name}/ has their schema): `base_url` + `model` " +
        "(+ `api_key`, stored encrypted and never returned), or `bench_user` + `bench_model`",
    ),
});

export const updateGenerativeSessionSchema = generativeSessionIdSchema.extend({
  name: sessionName.optional(),
  task_name: z.string().min(1).max(100).optional(),
  model_name: z.string().min(1).max(100).optional(),
  description: z.string().max(10_000).nullable().optional(),
  parameters: z
    .union([parameters, z.string().max(100_000)])
    .optional()
    .describe(
      'Merged over the stored ones (an object, or its JSON in the query); `api_key: ""` removes the key',
    ),
});

export const replaceParametersSchema = generativeSessionIdSchema.extend({
  parameters: parameters.describe(
    "The new parameters (replace the stored ones; a stored key is kept unless given)",
  ),
});

export const bulkDeleteGenerativeSessionsSchema = z.object({ ids: z.array(labIdSchema).max(1000) });

export const generativeSessionSchema = z
  .object({
    id: z.int(),
    name: z.string(),
    description: z.string().nullable(),
    task_name: z.string(),
    model_name: z.string(),
    parameters: parameters,
    api_key_set: z.boolean().describe("Whether a key is stored (the key itself is never returned)"),
    created: z.string(),
    last_modified: z.string(),
  })
  .meta({ id: "LabGenerativeSession" });
export type GenerativeSessionOut = z.infer<typeof generativeSessionSchema>;

export const parameterHistorySchema = z
  .object({
    id: z.int(),
    session_id: z.int(),
    model_name: z.string(),
    parameters: parameters,
    modified_at: z.string(),
  })
  .meta({ id: "LabGenerativeParameterHistory" });

export const processDataSchema = z
  .object({
    id: z.int(),
    process_id: z.int(),
    is_input: z.boolean(),
    data_type: z.enum(["str", "Image"]),
    data: z
      .string()
      .describe("The text, or for an Image the file name (GET /api/v1/generative-process/image/{name})"),
  })
  .meta({ id: "LabProcessData" });

export const generativeProcessSchema = z
  .object({
    id: z.int(),
    session_id: z.int(),
    status: z.int().describe("0 NOT_STARTED, 1 DELIVERED, 2 STARTED, 3 FINISHED, 4 ERROR"),
    error: z.string().nullable(),
    job_id: z.string().nullable(),
    parameters: parameters,
    created: z.string(),
    start_time: z.string().nullable(),
    end_time: z.string().nullable(),
    input: z.array(processDataSchema),
    output: z.array(processDataSchema),
  })
  .meta({ id: "LabGenerativeProcess" });
export type GenerativeProcessOut = z.infer<typeof generativeProcessSchema>;

export const processResultsSchema = z
  .object({
    id: z.int(),
    status: z.int(),
    output: z.array(processDataSchema),
  })
  .meta({ id: "LabGenerativeResults" });
