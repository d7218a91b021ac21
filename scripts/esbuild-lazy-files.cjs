// esbuild plugins for the Lambda bundles (serverless-esbuild `plugins` option).
//
// serverless-esbuild builds one ESM file per function, so a dynamic import() is inlined and
// the imported code is parsed at every cold start even when it never runs. The modules listed
// here are instead built into files of their own next to the handlers and imported at run time
// by relative path: a function pays for them only when it calls them. Functions that never
// import one leave it out of their zip (`package.patterns` in serverless.yml).
const { existsSync } = require('node:fs');
const { resolve } = require('node:path');

/** Source module (extensionless, as imported) -> file name beside the handler bundles. */
const LAZY_FILES = {
  'lib/cloud/alibaba-sdk': 'alibaba-sdk.mjs',
};

const root = resolve(__dirname, '..');
const bySource = new Map(Object.entries(LAZY_FILES).map(([src, out]) => [resolve(root, src), out]));
const basenames = [...bySource.keys()].map((p) => p.split('/').pop());
const filter = new RegExp(`/(?:${basenames.join('|')})(?:\\.[cm]?[jt]s)?$`);
/** Builds in flight by output file: functions built into one directory at once share one. */
const inFlight = new Map();
/** Files this process has written (rebuilt only if they have gone, e.g. a cleaned build dir). */
const written = new Set();

function buildLazyFile(esbuild, options, source, outfile) {
  if (written.has(outfile) && existsSync(outfile)) return undefined;
  let pending = inFlight.get(outfile);
  if (!pending) {
    pending = esbuild
      .build({
        entryPoints: [`${source}.ts`],
        outfile,
        bundle: true,
        platform: options.platform,
        target: options.target,
        format: options.format,
        minify: options.minify,
        banner: options.banner,
        logLevel: 'warning',
      })
      .then(() => {
        written.add(outfile);
      })
      .finally(() => inFlight.delete(outfile));
    inFlight.set(outfile, pending);
  }
  return pending;
}

const lazyFiles = {
  name: 'lazy-files',
  setup(build) {
    const used = new Set();
    build.onResolve({ filter }, (args) => {
      const target = resolve(args.resolveDir, args.path).replace(/\.[cm]?[jt]s$/, '');
      const out = bySource.get(target);
      if (out === undefined) return undefined;
      if (args.kind !== 'dynamic-import') {
        return { errors: [{ text: `${args.path} must be imported with import() so that it stays lazy` }] };
      }
      used.add(target);
      return { path: `./${out}`, external: true };
    });
    build.onEnd(async (result) => {
      if (result.errors.length > 0) return;
      const o = build.initialOptions;
      if (!o.outdir) throw new Error('lazy-files: needs outdir');
      await Promise.all([...used].map((source) => buildLazyFile(build.esbuild, o, source, resolve(o.outdir, bySource.get(source)))));
    });
  },
};

module.exports = [lazyFiles];
