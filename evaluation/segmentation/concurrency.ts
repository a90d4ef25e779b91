/**
 * Runs `task` over `items` with at most `limit` in flight. Evaluations read and inflate the next
 * images (node:zlib works on the libuv thread pool) while the main thread counts pixels of the
 * current one. The first failure rejects, and no new task starts after it.
 */
export async function forEachConcurrent<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        await task(items[index], index);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Images decoded at once: enough to keep the zlib thread pool busy, few enough to bound memory. */
export const IMAGE_CONCURRENCY = 4;
