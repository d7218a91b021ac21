/** The batching both fleet runners share: distinct ids cut into API-sized chunks, worked on a few at a time. */

/** The distinct ids, in order, cut into chunks of at most `size`. */
export function chunksOf(ids: readonly string[], size: number): string[][] {
  const unique = [...new Set(ids)];
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += size) chunks.push(unique.slice(i, i + size));
  return chunks;
}

/** Calls `fn` on every item, at most `n` at a time. */
export async function pool<T>(items: readonly T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}
