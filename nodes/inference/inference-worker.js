// @ts-check
/**
 * The thread an onnxruntime session lives on.
 *
 * onnxruntime-node's `session.run` computes on the calling JavaScript thread: on the main thread
 * a 90 ms run freezes everything else for 90 ms (decoding, sockets, encoding). So each model
 * gets a worker thread that owns its session; the main thread posts inputs and awaits outputs.
 *
 * Plain JavaScript because workers do not inherit the TypeScript loader the CLI and the tests
 * run under. The messages are typed in inference-protocol.ts; keep the two in step.
 */
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';

if (!parentPort) throw new Error('inference-worker.js must run as a worker thread');
const port = parentPort;

/** @type {ort.InferenceSession | undefined} */
let session;

/** @param {unknown} err */
const firstLine = (err) => (err instanceof Error ? err.message : String(err)).split('\n')[0];

/** @param {import('./inference-protocol.ts').OpenRequest} request */
async function open(request) {
  /** @type {string[]} */
  const failures = [];
  for (const provider of request.providers) {
    try {
      session = await ort.InferenceSession.create(request.weights, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        // Idle onnxruntime workers spin by default; with two sessions on a small machine each
        // one's spinning steals the other's cores (measured: 117 -> 87 ms per frame pair).
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      port.postMessage({
        type: 'opened',
        provider,
        failures,
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        inputShapes: session.inputMetadata.map((m) => ({ name: m.name, shape: m.isTensor ? [...m.shape] : undefined })),
      });
      return;
    } catch (err) {
      failures.push(`${provider} unavailable (${firstLine(err)})`);
    }
  }
  port.postMessage({ type: 'open-failed', failures });
}

/** @param {import('./inference-protocol.ts').RunRequest} request */
async function run(request) {
  try {
    if (!session) throw new Error('no session: open it first');
    const feeds = { [request.inputName]: new ort.Tensor('float32', request.input, request.dims) };
    const results = await session.run(feeds, request.outputs);
    /** @type {Record<string, import('./inference-protocol.ts').OutputTensor>} */
    const outputs = {};
    /** @type {ArrayBuffer[]} */
    const transfer = [];
    for (const [name, tensor] of Object.entries(results)) {
      const data = /** @type {Float32Array | Uint8Array} */ (tensor.data);
      outputs[name] = { type: tensor.type, dims: [...tensor.dims], data };
      // Outputs own their buffers: hand them over instead of copying.
      if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) transfer.push(/** @type {ArrayBuffer} */ (data.buffer));
    }
    port.postMessage({ type: 'result', id: request.id, outputs }, transfer);
  } catch (err) {
    port.postMessage({ type: 'run-failed', id: request.id, message: firstLine(err) });
  }
}

// One run at a time: parallel runs on one session only split the same cores.
/** @type {Promise<void>} */
let runs = Promise.resolve();

port.on('message', (/** @type {import('./inference-protocol.ts').WorkerRequest} */ request) => {
  if (request.type === 'open') void open(request);
  else if (request.type === 'run') runs = runs.then(() => run(request));
  else if (request.type === 'release') {
    void Promise.resolve(session?.release()).finally(() => port.close());
  }
});
