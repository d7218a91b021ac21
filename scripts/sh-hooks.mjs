// Module hooks: `import text from './x.sh'` yields the file's text, as esbuild's `text`
// loader does in the bundles. Used when running TypeScript sources with tsx (benchmarks).
import { readFile } from 'node:fs/promises';

export async function load(url, context, nextLoad) {
  if (url.startsWith('file:') && url.endsWith('.sh')) {
    const text = await readFile(new URL(url), 'utf8');
    return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
  }
  return nextLoad(url, context);
}
