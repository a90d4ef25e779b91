import ort from 'onnxruntime-node';
const o = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' } } } };
const a = await ort.InferenceSession.create('/work/shared/models/espnetv2_cityscapes_s1.5_512x256.onnx', o);
const b = await ort.InferenceSession.create('/work/shared/models/yolov8n_seg_coco_320_int8w.onnx', o);
const ta = new ort.Tensor('float32', new Float32Array(3*256*512), [1,3,256,512]);
const tb = new ort.Tensor('float32', new Float32Array(3*320*320), [1,3,320,320]);
await a.run({input: ta}, ['labels']); await b.run({images: tb});
const N = 30; let t0 = performance.now();
for (let i = 0; i < N; i++) { await a.run({input: ta}, ['labels']); await b.run({images: tb}); }
console.log('pair ms', ((performance.now() - t0) / N).toFixed(1));
t0 = performance.now(); for (let i = 0; i < N; i++) await a.run({input: ta}, ['labels']); console.log('espnet ms', ((performance.now() - t0) / N).toFixed(1));
t0 = performance.now(); for (let i = 0; i < N; i++) await b.run({images: tb}); console.log('yolo ms', ((performance.now() - t0) / N).toFixed(1));
