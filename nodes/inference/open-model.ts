import type { GraphContext } from '../../pipeline/node.ts';
import { findModel, loadModelCatalog, type ModelCatalog, type ModelEntry } from './model-catalog.ts';
import { ExclusiveRunner } from './exclusive-runner.ts';
import { openModelSession, type ModelSession } from './model-session.ts';

/**
 * The session for catalog model `id`, opened once per graph and shared by every stream that uses
 * it. The first caller pays for loading, checking and warming it up; the rest await the same one.
 */
export async function openModel(
  ctx: GraphContext,
  id: string,
  decoders: ModelEntry['decoder'] | readonly ModelEntry['decoder'][],
): Promise<ModelSession> {
  const catalog = await ctx.shared<ModelCatalog>('model-catalog', async () => loadModelCatalog());
  const entry = findModel(catalog, id);
  const accepted: readonly ModelEntry['decoder'][] = typeof decoders === 'string' ? [decoders] : decoders;
  if (!accepted.includes(entry.decoder)) {
    const fitting = [...catalog.values()].filter((m) => accepted.includes(m.decoder)).map((m) => m.id);
    throw new Error(
      `model "${id}" is a ${entry.decoder} model; this node needs a ${accepted.join(' or ')} model (the catalog has ${fitting.join(', ') || 'none'})`,
    );
  }
  // With the exclusive schedule, one runner for every model of the graph: runs take turns.
  const runner = ctx.inferenceSchedule === 'exclusive' ? await ctx.shared('inference-runner', async () => new ExclusiveRunner()) : undefined;
  return ctx.shared(
    `model:${id}`,
    () => openModelSession(entry, ctx.dataDir, ctx.executionProviders, ctx.log.child('inference'), runner),
    (session) => session.release(),
  );
}
