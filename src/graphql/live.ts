/**
 * Live metrics for dashboards: the `liveMetrics` subscription (graphql-yoga serves subscriptions over SSE:
 * `Accept: text/event-stream` on GET or POST /graphql). Each event carries the same data as the `metrics`,
 * `timeseries` and `tierDistribution` queries, read through the same procedures (auth included).
 *
 * Fed by the state store's pub/sub: the metrics service publishes `metrics:changed` (coalesced) when
 * counters move and `items:changed` after uploads and deletes, on whichever instance served the traffic;
 * every instance's subscribers re-read the counters then, at most four times a second. A refresh every
 * REFRESH_MS also rolls the current bucket over when nothing happens.
 */
import type { AnyRouter } from "@trpc/server";
import { Repeater } from "graphql-yoga";
import { inputSchemaOf, listProcedures } from "../trpc/procedures.js";
import type { GraphQLContext } from "./schema.js";
import { ZodToPothos } from "./zod-to-pothos.js";

export const REFRESH_MS = 30_000;
const MIN_INTERVAL_MS = 250;

const PROCEDURES = {
  metrics: "guard.metrics.get",
  timeseries: "guard.metrics.timeseries",
  tiers: "guard.metrics.tiers",
} as const;

interface LiveOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Pothos builder with run-time types
  builder: any;
  types: ZodToPothos;
  router: AnyRouter;
  procedureOf: (ctx: GraphQLContext, path: string) => (input: unknown) => Promise<unknown>;
  rethrow: (ctx: GraphQLContext, error: unknown) => never;
}

export function defineLiveMetrics({ builder, types, router, procedureOf, rethrow }: LiveOptions): void {
  const metrics = types.objectNamed("Metrics");
  const timeseries = types.objectNamed("Timeseries");
  const tier = types.objectNamed("TierCount");
  const procedures = listProcedures(router);
  const timeseriesInput = procedures.find((p) => p.path === PROCEDURES.timeseries);
  // The channels whose messages mean "the counters moved", as the metrics procedure declares them.
  const channels = procedures.find((p) => p.path === PROCEDURES.metrics)?.meta.graphql?.liveChannels ?? [];
  if (!metrics || !timeseries || !tier || !timeseriesInput || channels.length === 0) return;
  const inputSchema = inputSchemaOf(timeseriesInput.procedure);
  const args = ZodToPothos.isObject(inputSchema) ? types.inputFields(inputSchema, "LiveMetrics") : [];

  const LiveMetrics = builder.objectRef("LiveMetrics").implement({
    description:
      "One update of the live metrics: what the metrics, timeseries and tierDistribution queries answer",
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Pothos field builder
    fields: (t: any) => ({
      metrics: t.field({ type: metrics, resolve: (p: Snapshot) => p.metrics }),
      timeseries: t.field({ type: timeseries, resolve: (p: Snapshot) => p.timeseries }),
      tierDistribution: t.field({ type: [tier], resolve: (p: Snapshot) => p.tiers }),
    }),
  });

  builder.subscriptionType({
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Pothos field builder
    fields: (t: any) => ({
      liveMetrics: t.field({
        type: LiveMetrics,
        description:
          "Metrics, time series and tiers now, then again whenever the counters change (on any instance). Over SSE: GET or POST /graphql with Accept: text/event-stream.",
        args: types.buildArgs((options) => t.arg(options), args),
        subscribe: async (_root: unknown, rawArgs: Record<string, unknown>, ctx: GraphQLContext) => {
          const seriesArgs = Object.fromEntries(
            Object.entries(rawArgs).filter(([, value]) => value !== null && value !== undefined),
          );
          const read = async (): Promise<Snapshot> => {
            const [m, ts, tiers] = await Promise.all([
              procedureOf(ctx, PROCEDURES.metrics)(undefined),
              procedureOf(ctx, PROCEDURES.timeseries)(seriesArgs),
              procedureOf(ctx, PROCEDURES.tiers)(undefined),
            ]);
            return { metrics: m, timeseries: ts, tiers: tiers as unknown[] };
          };
          // The first read authorizes the subscription (and validates the arguments): errors end it at once.
          let first: Snapshot;
          try {
            first = await read();
          } catch (error) {
            return rethrow(ctx, error);
          }
          const state = ctx.trpc.deps.state;
          return new Repeater<Snapshot>(async (push, stop) => {
            await push(first);
            let dirty = false;
            let running = false;
            let last = Date.now();
            const refresh = async () => {
              if (running) {
                dirty = true;
                return;
              }
              running = true;
              try {
                do {
                  dirty = false;
                  const wait = last + MIN_INTERVAL_MS - Date.now();
                  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
                  last = Date.now();
                  await push(await read());
                } while (dirty);
              } catch (error) {
                ctx.trpc.log.debug({ err: error }, "liveMetrics: read failed; the next change retries");
              } finally {
                running = false;
              }
            };
            const wake = () => void refresh();
            const unsubscribes = await Promise.all([
              ...channels.map((channel, i) =>
                state.subscribe(channel, wake, i === 0 ? { onResync: wake } : undefined),
              ),
            ]).catch((error: unknown) => {
              stop(error);
              return [];
            });
            const timer = setInterval(wake, REFRESH_MS);
            timer.unref();
            await stop;
            clearInterval(timer);
            await Promise.all(unsubscribes.map((unsubscribe) => unsubscribe().catch(() => undefined)));
          });
        },
        resolve: (payload: Snapshot) => payload,
      }),
    }),
  });
}

interface Snapshot {
  metrics: unknown;
  timeseries: unknown;
  tiers: unknown[];
}
