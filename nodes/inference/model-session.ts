/**
 * One onnxruntime session per model: created once, warmed up, shared by every stream.
 */
import ort from 'onnxruntime-node';
import type { Logger } from '../../pipeline/log.ts';
import type { ExecutionProvider } from '../../pipeline/node.ts';
import type { ModelEntry } from './model-catalog.ts';
import { ModelFileError, readVerifiedModel } from './model-file.ts';

export type OutputTensors = Readonly<Record<string, ort.Tensor>>;

export interface ModelSession {
  readonly entry: ModelEntry;
  /** The execution provider that actually runs the model. */
  readonly provider: ExecutionProvider;
  /**
   * Runs the model on one prepared input (NCHW float32 of the catalog's input size) and fetches
   * only the catalog's outputs. Calls from several streams are queued: one run at a time per
   * session, since parallel runs on two cores only slow each other down.
   */
  run(input: Float32Array): Promise<OutputTensors>;
  release(): Promise<void>;
}

function sessionOptions(provider: ExecutionProvider): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    // Idle onnxruntime workers spin by default; with two sessions on a small machine each one's
    // spinning steals the other's cores (measured: 117 ms -> 87 ms per frame pair with it off).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** Creates the session on the first provider that works, falling back towards CPU. */
async function createSession(
  entry: ModelEntry,
  weights: Uint8Array,
  providers: readonly ExecutionProvider[],
  log: Logger,
): Promise<{ session: ort.InferenceSession; provider: ExecutionProvider }> {
  const order = providers.includes('cpu') ? providers : [...providers, 'cpu' as const];
  const failures: string[] = [];
  for (const provider of order) {
    try {
      const session = await ort.InferenceSession.create(weights, sessionOptions(provider));
      if (failures.length) log.warn(`model ${entry.id}: ${failures.join('; ')}; falling back`);
      log.info(`model ${entry.id} runs on ${provider}`);
      return { session, provider };
    } catch (err) {
      const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
      failures.push(`${provider} unavailable (${message})`);
    }
  }
  throw new Error(`model ${entry.id}: no execution provider could load it: ${failures.join('; ')}`);
}

/** Checks the file is the model the catalog describes: same input name and size, same outputs. */
function checkSignature(entry: ModelEntry, session: ort.InferenceSession): void {
  const problems: string[] = [];
  if (!session.inputNames.includes(entry.input.name)) {
    problems.push(`input "${entry.input.name}" missing (the file has ${session.inputNames.join(', ')})`);
  } else {
    const meta = session.inputMetadata.find((m) => m.name === entry.input.name);
    const shape = meta && meta.isTensor ? meta.shape : undefined;
    const [, , h, w] = shape ?? [];
    const fits = (dim: unknown, size: number) => typeof dim !== 'number' || dim === size;
    if (shape && (!fits(h, entry.input.height) || !fits(w, entry.input.width))) {
      problems.push(`input shape is [${shape.join(',')}], the catalog says ${entry.input.width}x${entry.input.height}`);
    }
  }
  const missing = entry.outputs.filter((o) => !session.outputNames.includes(o));
  if (missing.length) problems.push(`outputs ${missing.join(', ')} missing (the file has ${session.outputNames.join(', ')})`);
  if (problems.length) {
    throw new ModelFileError(
      `model ${entry.id} does not match its catalog entry: ${problems.join('; ')}. Is it the right file?`,
    );
  }
}

export async function openModelSession(
  entry: ModelEntry,
  dataDir: string,
  providers: readonly ExecutionProvider[],
  log: Logger,
): Promise<ModelSession> {
  const weights = readVerifiedModel(entry, dataDir);
  const { session, provider } = await createSession(entry, weights, providers, log);
  checkSignature(entry, session);
  const dims = [1, 3, entry.input.height, entry.input.width];
  let queue: Promise<unknown> = Promise.resolve();

  const run = (input: Float32Array): Promise<OutputTensors> => {
    const result = queue.then(() =>
      session.run({ [entry.input.name]: new ort.Tensor('float32', input, dims) }, [...entry.outputs]),
    );
    queue = result.catch(() => undefined);
    return result;
  };

  // The first run pays for memory planning and kernel selection; do it before the first frame.
  await run(new Float32Array(dims.reduce((a, b) => a * b, 1)));
  return { entry, provider, run, release: () => session.release() };
}
