// Bundles the CLI into dist/ (shell scripts are inlined as text). The CLI runs from a checkout
// with node_modules installed.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry content hashes: start clean so stale chunks do not pile up.
rmSync('dist', { recursive: true, force: true });

await build({
  entryPoints: { cli: 'lib/cli/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  // Dynamic imports stay lazy (separate chunks): the AWS and Alibaba SDKs load only in cloud mode.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // zod and the engine are bundled (one file loads faster than zod's module graph); the cloud
  // SDKs stay external and are reached only from the lazy cloud chunks.
  external: ['@aws-sdk/*', '@smithy/*', '@alicloud/*', '@darabonba/*', '@aws-lambda-powertools/*', '@middy/*', 'ssh2'],
  loader: { '.sh': 'text' },
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
});
