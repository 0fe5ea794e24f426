import { z } from "zod";
import { ValidationError } from "../../../platform/errors.js";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { mlStatusSchema, modelInfoSchema, trainStartedSchema, uploadModelSchema } from "./ml.schema.js";

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export const mlRouter = router({
  status: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/dashboard/api/ml/status",
        tags: ["dashboard: ml"],
        summary: "Check ML model status",
        description:
          "`model_ready`, `sessions_with_features` and `last_trained` as documented, plus the model this " +
          "instance serves (version, source, metrics) and the state of the latest training run.",
      },
      graphql: { name: "mlStatus" },
    })
    .input(z.void())
    .output(mlStatusSchema)
    .query(({ ctx }) => ctx.deps.services.ml.status()),

  train: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/dashboard/api/ml/train",
        tags: ["dashboard: ml"],
        summary: "Trigger a training run. Returns immediately; training is async.",
        description:
          "409 while a training run is in progress (on any instance); 422 with fewer than 100 labeled " +
          "sessions, naming how many more are needed. Progress and result: `GET /dashboard/api/ml/status`.",
      },
      graphql: { name: "mlTrain" },
    })
    .input(z.void())
    .output(trainStartedSchema)
    .mutation(({ ctx }) => ctx.deps.services.ml.startTraining()),

  /** REST: `POST /dashboard/api/ml/models` with the raw file (http.ts); here the file comes base64. */
  uploadModel: dashboardProcedure
    .meta({ graphql: { name: "mlUploadModel" }, httpStatus: 201 })
    .input(uploadModelSchema)
    .output(modelInfoSchema)
    .mutation(({ ctx, input }) => {
      const text = input.model_base64.replace(/\s+/g, "");
      if (!BASE64.test(text) || text.length % 4 === 1)
        throw ValidationError.field(["input", "model_base64"], "not valid base64", "value_error");
      return ctx.deps.services.ml.uploadModel(Buffer.from(text, "base64"));
    }),
});
