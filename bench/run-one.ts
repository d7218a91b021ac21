// Runs one benchmark module: calls its exported main() (modules without one run on import).
const file = process.argv[2]!;
const mod = (await import(file)) as { main?: () => Promise<void> };
if (typeof mod.main === 'function') await mod.main();

export {};
