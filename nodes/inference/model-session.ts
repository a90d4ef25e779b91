/**
 * One onnxruntime session per model: created once, on its own worker thread, warmed up, and
 * shared by every stream.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../pipeline/log.ts';
import type { ExecutionProvider } from '../../pipeline/node.ts';
import type { InputSize, OutputTensor, RunInput, WorkerReply, WorkerRequest } from './inference-protocol.ts';
import type { SliceRegion } from './slices.ts';
import type { ModelEntry, ModelInput } from './model-catalog.ts';
import { inputChannels, type RgbImage } from './preprocess.ts';
import { ExclusiveRunner } from './exclusive-runner.ts';
import { ModelFileError, readVerifiedModel } from './model-file.ts';

export type OutputTensors = Readonly<Record<string, OutputTensor>>;

/** What the model returned for each slice of a frame, and how long its runs took. */
export interface SlicedOutputs {
  /** One set of outputs per region, in the order asked, each with batch dimension 1. */
  readonly slices: readonly OutputTensors[];
  /** Milliseconds of each model run on the model's thread: one if batched, else one per slice. */
  readonly runMs: readonly number[];
}

type OpenReply = Extract<WorkerReply, { type: 'opened' | 'open-failed' }>;
type ResultReply = Extract<WorkerReply, { type: 'result' | 'slices-result' }>;

export interface ModelSession {
  readonly entry: ModelEntry;
  /** The execution provider that actually runs the model. */
  readonly provider: ExecutionProvider;
  /**
   * Runs the model on one prepared input (NCHW float32 of the catalog's input size) and fetches
   * only the catalog's outputs. With an exclusive schedule, runs of all models take turns
   * (ExclusiveRunner), the higher `priority` first: pass the node's position in the chain. Keep
   * the input unchanged until the returned promise settles. `size`: this run's input size, for a
   * `dynamic` model only (e.g. MCNN, at the width a node chooses).
   */
  run(input: Float32Array, priority?: number, size?: InputSize): Promise<OutputTensors>;
  /**
   * Like {@link run}, on a frame that the session's own thread prepares (preprocess.ts): the
   * main thread neither resizes nor copies, when the frame lives in shared memory. Keep the
   * frame unchanged until the returned promise settles.
   */
  runImage(image: RgbImage, priority?: number, size?: InputSize): Promise<OutputTensors>;
  /**
   * Runs the model on each region of the frame (slices.ts), all of them as one unit: one turn of
   * the exclusive schedule, one request to the model's thread, which prepares every slice and
   * runs them as one batch when the model takes any batch size ({@link batchesSlices}), one
   * after the other otherwise. Keep the frame unchanged until the promise settles.
   */
  runSlices(image: RgbImage, regions: readonly SliceRegion[], priority?: number): Promise<SlicedOutputs>;
  /** The model's batch dimension is dynamic, so slices run as one batch. */
  readonly batchesSlices: boolean;
  release(): Promise<void>;
}

const WORKER_URL = new URL('./inference-worker.js', import.meta.url);

/** Shared by every inference thread of the process: see `deviceLock` in inference-worker.js. */
const DEVICE_LOCK = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

/** How long a thread that has answered every run may take to close after a release. */
const RELEASE_GRACE_MS = 2000;

/** A worker thread hosting one session, with request/reply matching. */
class SessionWorker {
  private readonly worker = new Worker(WORKER_URL);
  private readonly pending = new Map<number, { resolve: (reply: ResultReply) => void; reject: (e: Error) => void }>();
  private opened: ((reply: OpenReply) => void) | undefined;
  /** The runs asked for and not yet answered: the thread is not ended under them. */
  private readonly inFlight = new Set<Promise<ResultReply>>();
  private nextId = 1;
  private failure: Error | undefined;

  /** Why the thread died, if it did (it could not start, or crashed). */
  get threadFailure(): Error | undefined {
    return this.failure;
  }

  constructor(private readonly modelId: string) {
    this.worker.on('message', (reply: WorkerReply) => this.receive(reply));
    this.worker.on('error', (err) => this.fail(new Error(`model ${modelId}: inference thread failed: ${err.message}`)));
    this.worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`model ${modelId}: inference thread exited with code ${code}`));
    });
  }

  private send(request: WorkerRequest): void {
    this.worker.postMessage(request);
  }

  private receive(reply: WorkerReply): void {
    if (reply.type === 'opened' || reply.type === 'open-failed') {
      this.opened?.(reply);
      return;
    }
    const waiter = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (reply.type === 'result' || reply.type === 'slices-result') waiter?.resolve(reply);
    else waiter?.reject(new Error(`model ${this.modelId}: ${reply.message}`));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
    // A thread that dies while opening the model must not leave the graph build waiting.
    this.opened?.({ type: 'open-failed', failures: [err.message] });
    this.opened = undefined;
  }

  open(weights: Uint8Array, providers: readonly ExecutionProvider[], modelInput: ModelInput): Promise<OpenReply> {
    if (this.failure) return Promise.resolve({ type: 'open-failed', failures: [this.failure.message] });
    return new Promise((resolve) => {
      this.opened = resolve;
      this.send({ type: 'open', weights, providers, modelInput, deviceLock: DEVICE_LOCK });
    });
  }

  async run(inputName: string, input: RunInput, outputs: readonly string[]): Promise<OutputTensors> {
    const reply = await this.request((id) => ({ type: 'run', id, inputName, input, outputs }));
    if (reply.type !== 'result') throw new Error(`model ${this.modelId}: expected a result, got ${reply.type}`);
    return reply.outputs;
  }

  async runSlices(inputName: string, image: RgbImage, regions: readonly SliceRegion[], outputs: readonly string[]): Promise<SlicedOutputs> {
    const reply = await this.request((id) => ({ type: 'run-slices', id, inputName, image, regions, outputs }));
    if (reply.type !== 'slices-result') throw new Error(`model ${this.modelId}: expected slice results, got ${reply.type}`);
    return { slices: reply.slices, runMs: reply.runMs };
  }

  private request(make: (id: number) => WorkerRequest): Promise<ResultReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const reply = new Promise<ResultReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(make(id));
    });
    this.inFlight.add(reply);
    const answered = () => void this.inFlight.delete(reply);
    reply.then(answered, answered);
    return reply;
  }

  /**
   * Frees the session and ends its thread. The release queues behind the runs already asked for,
   * and the thread is never terminated while one of them is on it: ending a worker while
   * onnxruntime runs on it aborts the whole process (`Napi::Error` when the run's callback finds
   * its environment gone), and a sliced frame at 640 on a loaded CPU runs for several seconds.
   * Only a thread that has answered every run and still has not closed after the grace is ended.
   */
  async release(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.send({ type: 'release' });
    let graceTimer: NodeJS.Timeout | undefined;
    const endLingeringThread = this.runsAnswered().then(
      () =>
        new Promise<void>((resolve) => {
          graceTimer = setTimeout(() => void this.worker.terminate().then(() => resolve()), RELEASE_GRACE_MS);
        }),
    );
    await Promise.race([exited, endLingeringThread]);
    clearTimeout(graceTimer);
  }

  /** Settles once every run asked for so far has its answer (or has failed with the thread). */
  private async runsAnswered(): Promise<void> {
    await Promise.allSettled(this.inFlight);
  }
}

/** Checks the file is the model the catalog describes: same input name and size, same outputs. */
function checkSignature(entry: ModelEntry, opened: Extract<WorkerReply, { type: 'opened' }>): void {
  const problems: string[] = [];
  const input = opened.inputShapes.find((i) => i.name === entry.input.name);
  if (!input) {
    problems.push(`input "${entry.input.name}" missing (the file has ${opened.inputNames.join(', ')})`);
  } else if (input.shape) {
    const [, , h, w] = input.shape;
    const fits = (dim: unknown, size: number) => typeof dim !== 'number' || dim === size;
    if (!fits(h, entry.input.height) || !fits(w, entry.input.width)) {
      problems.push(`input shape is [${input.shape.join(',')}], the catalog says ${entry.input.width}x${entry.input.height}`);
    }
  }
  const missing = entry.outputs.filter((o) => !opened.outputNames.includes(o));
  if (missing.length) problems.push(`outputs ${missing.join(', ')} missing (the file has ${opened.outputNames.join(', ')})`);
  if (problems.length) {
    throw new ModelFileError(`model ${entry.id} does not match its catalog entry: ${problems.join('; ')}. Is it the right file?`);
  }
}

/** Element type and rank of each output, per decoder, as the heads read them. */
const DECODER_OUTPUTS: Record<ModelEntry['decoder'], readonly { type: string; rank: number }[]> = {
  'semantic-labels': [{ type: 'uint8', rank: 3 }],
  'yolo-seg': [
    { type: 'float32', rank: 3 },
    { type: 'float32', rank: 4 },
  ],
  'yolo-detect': [{ type: 'float32', rank: 3 }],
  yolox: [{ type: 'float32', rank: 3 }],
  // Class scores then box distances, per stride (8, 16, 32).
  nanodet: Array.from({ length: 6 }, () => ({ type: 'float32', rank: 3 })),
  density: [{ type: 'float32', rank: 4 }],
};

/** A model whose outputs have another type or rank would be decoded into garbage: refuse it. */
function checkOutputs(entry: ModelEntry, outputs: OutputTensors): void {
  const problems = DECODER_OUTPUTS[entry.decoder].flatMap((expected, i) => {
    const name = entry.outputs[i]!;
    const tensor = outputs[name];
    if (!tensor) return [`output ${name} is missing`];
    return tensor.type === expected.type && tensor.dims.length === expected.rank
      ? []
      : [`output ${name} is ${tensor.type} of rank ${tensor.dims.length}, the ${entry.decoder} decoder reads ${expected.type} of rank ${expected.rank}`];
  });
  if (problems.length) throw new ModelFileError(`model ${entry.id}: ${problems.join('; ')}. Is it the right file?`);
}

/** `text` without ANSI terminal escapes (colours, cursor moves). */
function withoutAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;?]*[ -\/]*[@-~]/g, '');
}

/**
 * Opens `entry` on the first execution provider that can run it, falling back towards CPU with
 * a log line that says which provider runs, then warms it up.
 */
export async function openModelSession(
  entry: ModelEntry,
  dataDir: string,
  providers: readonly ExecutionProvider[],
  log: Logger,
  runner?: ExclusiveRunner,
): Promise<ModelSession> {
  const weights = readVerifiedModel(entry, dataDir);
  const order = providers.includes('cpu') ? providers : [...providers, 'cpu' as const];
  const worker = new SessionWorker(entry.id);
  const opened = await worker.open(weights, order, entry.input);
  if (opened.type !== 'opened') {
    await worker.release();
    // A thread that could not even start (its loader or preprocessing failed to import) is not
    // the execution providers' fault: say what it was.
    throw worker.threadFailure ?? new Error(`model ${entry.id}: no execution provider could load it: ${opened.failures.join('; ')}`);
  }
  // onnxruntime colours its messages for a terminal; a log line (or a log file) gets the words only.
  if (opened.failures.length) log.warn(`model ${entry.id}: ${opened.failures.map(withoutAnsi).join('; ')}; falling back`);
  log.info(`model ${entry.id} runs on ${opened.provider}`);

  const direct = (input: RunInput) => worker.run(entry.input.name, input, entry.outputs);
  const scheduled = (input: RunInput, priority = 0) => {
    if (input.size && !entry.input.dynamic) {
      return Promise.reject(new Error(`model ${entry.id} has a fixed input size (${entry.input.width}x${entry.input.height}); only a dynamic model takes a size per run`));
    }
    return runner ? runner.run(priority, () => direct(input)) : direct(input);
  };
  const run = (tensor: Float32Array, priority?: number, size?: InputSize) => scheduled({ tensor, ...(size && { size }) }, priority);
  // Only what the worker reads crosses to it: not the frame's stream name, timestamps...
  const runImage = ({ width, height, data }: RgbImage, priority?: number, size?: InputSize) =>
    scheduled({ image: { width, height, data }, ...(size && { size }) }, priority);
  const runSlices = ({ width, height, data }: RgbImage, regions: readonly SliceRegion[], priority = 0) => {
    const direct = () => worker.runSlices(entry.input.name, { width, height, data }, regions, entry.outputs);
    return runner ? runner.run(priority, direct) : direct();
  };
  try {
    checkSignature(entry, opened);
    // The first run pays for memory planning and kernel selection; do it before the first
    // frame, and check that the outputs are what the decoder reads.
    checkOutputs(entry, await run(new Float32Array(inputChannels(entry.input) * entry.input.height * entry.input.width)));
  } catch (err) {
    await worker.release();
    throw err;
  }
  return {
    entry,
    provider: opened.provider,
    run,
    runImage,
    runSlices,
    batchesSlices: opened.batchesSlices,
    release: () => worker.release(),
  };
}
