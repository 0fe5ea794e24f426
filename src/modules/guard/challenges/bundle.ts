import { packagePath } from "../../../platform/paths.js";

const bundles = new Map<string, Promise<string>>();

/** A file of `clients/widget/` (e.g. "widget.ts"), as a path. */
export function widgetSource(file: string): string {
  return packagePath("clients/widget", file);
}

/**
 * A browser script bundled and minified by esbuild on first request and kept in memory: nothing generated is
 * committed and `npm start` needs no build step. A failed build is tried again on the next request.
 */
export function bundleScript(entry: string): Promise<string> {
  let bundle = bundles.get(entry);
  if (!bundle) {
    bundle = import("esbuild")
      .then((esbuild) =>
        esbuild.build({
          entryPoints: [entry],
          bundle: true,
          minify: true,
          format: "iife",
          target: "es2019",
          write: false,
          legalComments: "none",
        }),
      )
      .then((result) => result.outputFiles[0]!.text)
      .catch((error: unknown) => {
        bundles.delete(entry);
        throw error;
      });
    bundles.set(entry, bundle);
  }
  return bundle;
}
