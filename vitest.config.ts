import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    {
      // Same contract as esbuild's `text` loader: `import script from './x.sh'` yields the file's text.
      name: 'sh-as-text',
      transform(code, id) {
        if (id.endsWith('.sh')) return { code: `export default ${JSON.stringify(code)};`, map: null };
        return null;
      },
    },
  ],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Lab tests share kernel state (namespaces, iptables): run files one at a time.
    fileParallelism: false,
    reporters: ['default'],
  },
});
