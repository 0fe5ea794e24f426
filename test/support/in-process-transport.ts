// The tracking SDK's transport for the server itself: a job running inside HiveGuard (e.g. the risk model's
// training, project `hiveguard-risk-model`) logs through the same Run API, straight to the service, with
// no HTTP round trip and no credentials.
//
//   const run = init({ project: "hiveguard-risk-model", transport: inProcessTransport(deps.services.tracking) });
import { createReadStream } from "node:fs";
import { RetryableError, type Transport } from "../../clients/ts/tracking/index.js";
import { AppError } from "../../src/platform/errors.js";
import type { TrackingService } from "../../src/modules/tracking/service.js";

export function inProcessTransport(tracking: TrackingService): Transport {
  return {
    async send(op) {
      try {
        switch (op.kind) {
          case "create":
            await tracking.createOrResumeRun(op.project, {
              name: op.run,
              config: op.config,
              tags: op.tags,
              notes: op.notes,
              resume: true,
            });
            return;
          case "metrics":
            await tracking.logMetrics(op.project, op.run, op.records);
            return;
          case "config":
            await tracking.setConfig(op.project, op.run, op.config);
            return;
          case "tags":
            await tracking.addTags(op.project, op.run, op.tags);
            return;
          case "finish":
            await tracking.finish(op.project, op.run, op.exit_code);
            return;
          case "artifact":
            await tracking.addArtifact(
              op.project,
              op.run,
              op.name,
              "application/octet-stream",
              createReadStream(op.path),
            );
            return;
        }
      } catch (error) {
        // Our own refusals (422, 404...) will not change on retry; anything else (database away) may.
        if (error instanceof AppError && error.status < 500) throw error;
        throw new RetryableError((error as Error).message);
      }
    },
  };
}
