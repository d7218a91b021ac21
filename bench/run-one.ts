// Runs one benchmark module: calls its exported main() (modules without one run on import).
// The module path is taken off argv so benchmarks read their own optional arguments.
const file = process.argv.splice(2, 1)[0]!;
const mod = (await import(file)) as { main?: () => Promise<void> };
if (typeof mod.main === 'function') await mod.main();

export {};
