// Bundles the CLI into dist/ (shell scripts are inlined as text). Dependencies stay external:
// the CLI runs from a checkout with node_modules installed.
import { build } from 'esbuild';

await build({
  entryPoints: { cli: 'lib/cli/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  loader: { '.sh': 'text' },
  sourcemap: 'linked',
  logLevel: 'warning',
});
