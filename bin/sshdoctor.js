#!/usr/bin/env node
// Node 22 is the supported floor (package.json engines): say so in one line instead of failing
// later with a syntax or module error on an older runtime.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(`sshdoctor: needs Node.js 22 or newer; this is ${process.version}\n`);
  process.exit(3);
}
await import('../dist/cli.mjs');
