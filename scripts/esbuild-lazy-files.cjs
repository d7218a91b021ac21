// esbuild plugins for the Lambda bundles (serverless-esbuild `plugins` option).
//
// serverless-esbuild builds one ESM file per function, so a dynamic import() is inlined and
// the imported code is parsed at every cold start even when it never runs. The modules listed
// here are instead built once into files of their own next to the handlers and imported at run
// time by relative path: a function pays for them only when it calls them. Functions that
// never import one leave it out of their zip (`package.patterns` in serverless.yml).
const { resolve } = require('node:path');

/** Source module (extensionless, as imported) -> file name beside the handler bundles. */
const LAZY_FILES = {
  'lib/cloud/alibaba-sdk': 'alibaba-sdk.mjs',
};

const root = resolve(__dirname, '..');
const bySource = new Map(Object.entries(LAZY_FILES).map(([src, out]) => [resolve(root, src), out]));
const basenames = [...bySource.keys()].map((p) => p.split('/').pop());
const filter = new RegExp(`/(?:${basenames.join('|')})(?:\\.[cm]?[jt]s)?$`);
/** One build per (output directory, file), shared by every function built into that directory. */
const builds = new Map();

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
      await Promise.all(
        [...used].map((source) => {
          const outfile = resolve(o.outdir, bySource.get(source));
          if (!builds.has(outfile)) {
            builds.set(
              outfile,
              build.esbuild.build({
                entryPoints: [`${source}.ts`],
                outfile,
                bundle: true,
                platform: o.platform,
                target: o.target,
                format: o.format,
                minify: o.minify,
                banner: o.banner,
                logLevel: 'warning',
              }),
            );
          }
          return builds.get(outfile);
        }),
      );
    });
  },
};

module.exports = [lazyFiles];
