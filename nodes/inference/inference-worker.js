// @ts-check
/**
 * The thread an onnxruntime session lives on.
 *
 * onnxruntime-node's `session.run` computes on the calling JavaScript thread: on the main thread
 * a 90 ms run freezes everything else for 90 ms (decoding, sockets, encoding). So each model
 * gets a worker thread that owns its session; the main thread posts inputs and awaits outputs.
 *
 * Frames can be prepared here too (resize, normalization: preprocess.ts), so that each model's
 * thread prepares its own input while the main thread goes on, and two models working on one
 * frame prepare it side by side.
 *
 * Plain JavaScript because workers do not inherit the TypeScript loader the CLI and the tests
 * run under; it registers that loader itself to reach preprocess.ts. The messages are typed in
 * inference-protocol.ts; keep the two in step.
 */
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { register } from 'tsx/esm/api';

if (!parentPort) throw new Error('inference-worker.js must run as a worker thread');
const port = parentPort;
// onnxruntime's own logger writes ANSI-coloured lines straight to stderr (an unavailable CUDA
// provider prints one per model); the fallback is logged by model-session.ts instead, in words.
ort.env.logLevel = process.env.PANOPTES_LOG === 'debug' ? 'warning' : 'fatal';

register();

/** @type {typeof import('./preprocess.ts')} */
const { createPreprocessor, inputChannels } = await import('./preprocess.ts');

/** @type {ort.InferenceSession | undefined} */
let session;

/**
 * onnxruntime-node's WebGPU provider has one GPU device per process, whichever thread a session
 * lives on. Two threads recording commands on it at once crash the process (seen on an H200:
 * "CommandEncoder is already finished", then SIGSEGV; two sessions released at once: "double free
 * or corruption"); one after the other, from any threads, is fine. So every WebGPU session's
 * creation, runs and release hold a lock shared by all inference threads; preparing inputs does
 * not, and goes on side by side.
 * @type {Int32Array | undefined}
 */
let deviceLock;
const UNLOCKED = 0;
const LOCKED = 1;

/**
 * @template T
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
async function holdingDevice(work) {
  const lock = deviceLock;
  if (!lock) return work();
  // Waiting without blocking the thread: it prepares the next inputs meanwhile.
  while (Atomics.compareExchange(lock, 0, UNLOCKED, LOCKED) !== UNLOCKED) {
    const waiting = Atomics.waitAsync(lock, 0, LOCKED);
    if (waiting.async) await waiting.value;
  }
  try {
    return await work();
  } finally {
    Atomics.store(lock, 0, UNLOCKED);
    Atomics.notify(lock, 0, 1);
  }
}
/** @type {import('./model-catalog.ts').ModelInput | undefined} */
let modelInput;
/**
 * Idle preprocessors per frame size. Each owns its tensor, so an input can be prepared while an
 * earlier one is still being run; streams of different sizes share this session.
 * @type {Map<string, import('./preprocess.ts').Preprocessor[]>}
 */
const idlePreprocessors = new Map();

/** Whether the session's input takes any batch size: slices then run as one batch. */
let batchesSlices = false;

/**
 * The input tensor of a run request, and what to do once the run is over with it.
 * @param {import('./inference-protocol.ts').RunInput} input
 * @param {import('./model-catalog.ts').ModelInput} model
 * @returns {{ tensor: Float32Array, done: () => void }}
 */
function prepareInput(input, model) {
  if ('tensor' in input) return { tensor: input.tensor, done: () => {} };
  return prepareImage(input.image, undefined, model);
}

/**
 * A frame, or one region of it, prepared by an idle preprocessor of that frame size and region
 * (each slice keeps its own: its resize plan and padding are made once, not once per frame).
 * @param {import('./preprocess.ts').RgbImage} image
 * @param {import('./slices.ts').SliceRegion | undefined} region
 * @param {import('./model-catalog.ts').ModelInput} model
 * @returns {{ tensor: Float32Array, done: () => void }}
 */
function prepareImage(image, region, model) {
  // A dynamic model's runs may ask for different input sizes: the size is part of the key.
  const key = region
    ? `${image.width}x${image.height}@${region.x},${region.y},${region.width}x${region.height}>${model.width}x${model.height}`
    : `${image.width}x${image.height}>${model.width}x${model.height}`;
  let idle = idlePreprocessors.get(key);
  if (!idle) idlePreprocessors.set(key, (idle = []));
  const prepare = idle.pop() ?? createPreprocessor(model);
  const pool = idle;
  return { tensor: prepare(image, region).tensor, done: () => void pool.push(prepare) };
}

/** @param {unknown} err */
const firstLine = (err) => (err instanceof Error ? err.message : String(err)).split('\n')[0];

/** @param {import('./inference-protocol.ts').OpenRequest} request */
async function open(request) {
  /** @type {string[]} */
  const failures = [];
  for (const provider of request.providers) {
    try {
      modelInput = request.modelInput;
      deviceLock = provider === 'webgpu' ? request.deviceLock : undefined;
      const created = await holdingDevice(() =>
        ort.InferenceSession.create(request.weights, {
          executionProviders: [provider],
          graphOptimizationLevel: 'all',
          // Idle onnxruntime workers spin by default; with two sessions on a small machine each
          // one's spinning steals the other's cores (measured: 117 -> 87 ms per frame pair).
          extra: { session: { intra_op: { allow_spinning: '0' } } },
        }),
      );
      session = created;
      const inputShapes = created.inputMetadata.map((m) => ({ name: m.name, shape: m.isTensor ? [...m.shape] : undefined }));
      const batch = inputShapes.find((i) => i.name === request.modelInput.name)?.shape?.[0];
      batchesSlices = typeof batch !== 'number' || batch < 0;
      port.postMessage({
        type: 'opened',
        provider,
        failures,
        inputNames: created.inputNames,
        outputNames: created.outputNames,
        inputShapes,
        batchesSlices,
      });
      return;
    } catch (err) {
      deviceLock = undefined;
      failures.push(`${provider} unavailable (${firstLine(err)})`);
    }
  }
  port.postMessage({ type: 'open-failed', failures });
}

/**
 * @param {import('./inference-protocol.ts').RunRequest} request
 * @param {() => { tensor: Float32Array, done: () => void }} prepared the input, or why it failed
 */
async function run(request, prepared) {
  let input;
  try {
    if (!session || !modelInput) throw new Error('no session: open it first');
    input = prepared();
    const size = request.input.size ?? modelInput;
    const dims = [1, inputChannels(modelInput), size.height, size.width];
    const feeds = { [request.inputName]: new ort.Tensor('float32', input.tensor, dims) };
    const running = session;
    const results = await holdingDevice(() => running.run(feeds, request.outputs));
    /** @type {ArrayBuffer[]} */
    const transfer = [];
    port.postMessage({ type: 'result', id: request.id, outputs: collectOutputs(results, transfer) }, transfer);
  } catch (err) {
    port.postMessage({ type: 'run-failed', id: request.id, message: firstLine(err) });
  } finally {
    input?.done();
  }
}

/**
 * The session's outputs as protocol tensors; buffers they own are added to `transfer`.
 * @param {ort.InferenceSession.OnnxValueMapType} results
 * @param {ArrayBuffer[]} transfer
 */
function collectOutputs(results, transfer) {
  /** @type {Record<string, import('./inference-protocol.ts').OutputTensor>} */
  const outputs = {};
  for (const [name, tensor] of Object.entries(results)) {
    const data = /** @type {Float32Array | Uint8Array} */ (tensor.data);
    outputs[name] = { type: tensor.type, dims: [...tensor.dims], data };
    // Outputs own their buffers: hand them over instead of copying.
    if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && !transfer.includes(/** @type {ArrayBuffer} */ (data.buffer))) {
      transfer.push(/** @type {ArrayBuffer} */ (data.buffer));
    }
  }
  return outputs;
}

/**
 * Batch tensors for slices, per slice count: made once, reused for every frame.
 * @type {Map<number, Float32Array>}
 */
const batchTensors = new Map();

/**
 * Every slice of one frame, as one unit: one batched run when the batch dimension is dynamic,
 * else one run per slice. Each slice's outputs come back with batch dimension 1 (views into the
 * batched outputs, without a copy).
 * @param {import('./inference-protocol.ts').RunSlicesRequest} request
 * @param {() => { tensor: Float32Array, done: () => void }[]} prepared the slices' inputs, or why they failed
 */
async function runSlices(request, prepared) {
  /** @type {{ tensor: Float32Array, done: () => void }[]} */
  let inputs = [];
  try {
    if (!session || !modelInput) throw new Error('no session: open it first');
    inputs = prepared();
    const running = session;
    const size = 3 * modelInput.height * modelInput.width;
    /** @type {Record<string, import('./inference-protocol.ts').OutputTensor>[]} */
    const slices = [];
    /** @type {number[]} */
    const runMs = [];
    /** @type {ArrayBuffer[]} */
    const transfer = [];
    if (batchesSlices && inputs.length > 1) {
      const n = inputs.length;
      let batch = batchTensors.get(n);
      if (!batch) batchTensors.set(n, (batch = new Float32Array(n * size)));
      inputs.forEach((input, i) => batch.set(input.tensor, i * size));
      const feeds = { [request.inputName]: new ort.Tensor('float32', batch, [n, 3, modelInput.height, modelInput.width]) };
      const started = performance.now();
      const results = await holdingDevice(() => running.run(feeds, request.outputs));
      runMs.push(performance.now() - started);
      const outputs = collectOutputs(results, transfer);
      for (let i = 0; i < n; i++) {
        /** @type {Record<string, import('./inference-protocol.ts').OutputTensor>} */
        const slice = {};
        for (const [name, tensor] of Object.entries(outputs)) {
          const per = tensor.data.length / n;
          slice[name] = { type: tensor.type, dims: [1, ...tensor.dims.slice(1)], data: tensor.data.subarray(i * per, (i + 1) * per) };
        }
        slices.push(slice);
      }
    } else {
      for (const input of inputs) {
        const feeds = { [request.inputName]: new ort.Tensor('float32', input.tensor, [1, 3, modelInput.height, modelInput.width]) };
        const started = performance.now();
        const results = await holdingDevice(() => running.run(feeds, request.outputs));
        runMs.push(performance.now() - started);
        slices.push(collectOutputs(results, transfer));
      }
    }
    port.postMessage({ type: 'slices-result', id: request.id, slices, runMs }, transfer);
  } catch (err) {
    port.postMessage({ type: 'run-failed', id: request.id, message: firstLine(err) });
  } finally {
    for (const input of inputs) input.done();
  }
}

/**
 * @param {import('./inference-protocol.ts').RunSlicesRequest} request
 * @returns {() => { tensor: Float32Array, done: () => void }[]}
 */
function prepareSlicesOnArrival(request) {
  const model = modelInput;
  if (!model) return () => { throw new Error('no session: open it first'); };
  /** @type {{ tensor: Float32Array, done: () => void }[]} */
  const inputs = [];
  try {
    for (const region of request.regions) inputs.push(prepareImage(request.image, region, model));
    return () => inputs;
  } catch (err) {
    for (const input of inputs) input.done();
    return () => { throw err; };
  }
}

/**
 * @param {import('./inference-protocol.ts').RunRequest} request
 * @returns {() => { tensor: Float32Array, done: () => void }}
 */
function prepareOnArrival(request) {
  if (!modelInput) return () => { throw new Error('no session: open it first'); };
  try {
    // A dynamic model's run may ask for its own input size (model-catalog.ts `dynamic`).
    const size = request.input.size;
    const input = prepareInput(request.input, size ? { ...modelInput, width: size.width, height: size.height } : modelInput);
    return () => input;
  } catch (err) {
    return () => { throw err; };
  }
}

// One run at a time: parallel runs on one session only split the same cores.
/** @type {Promise<void>} */
let runs = Promise.resolve();

port.on('message', (/** @type {import('./inference-protocol.ts').WorkerRequest} */ request) => {
  if (request.type === 'open') void open(request);
  else if (request.type === 'run') {
    // Prepared on arrival, not in turn: while this thread waits for an earlier run (on the GPU,
    // or for the device lock), the next input gets ready.
    const prepared = prepareOnArrival(request);
    runs = runs.then(() => run(request, prepared));
  }
  else if (request.type === 'run-slices') {
    const prepared = prepareSlicesOnArrival(request);
    runs = runs.then(() => runSlices(request, prepared));
  }
  else if (request.type === 'release') {
    // After the runs already asked for: a release that waited for the device lock while this
    // thread's own run held it would block the thread that has to give it back.
    const closing = session;
    runs = runs.then(() => holdingDevice(async () => closing?.release())).finally(() => port.close());
  }
});
