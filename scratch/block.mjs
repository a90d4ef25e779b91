import ort from 'onnxruntime-node';
const s = await ort.InferenceSession.create('/work/shared/models/espnetv2_cityscapes_s1.5_512x256.onnx');
const t = new ort.Tensor('float32', new Float32Array(3*256*512), [1,3,256,512]);
await s.run({input: t}, ['labels']);
let ticks = 0; const iv = setInterval(() => ticks++, 1);
const t0 = performance.now(); await s.run({input: t}, ['labels']); const dt = performance.now() - t0;
clearInterval(iv); console.log('run ms', dt.toFixed(1), 'ticks during run', ticks);
