import ort from 'onnxruntime-node';
const s = await ort.InferenceSession.create('/work/shared/models/espnetv2_cityscapes_s1.5_512x256.onnx');
const buf = new Float32Array(3*256*512);
const t = new ort.Tensor('float32', buf, [1,3,256,512]);
const r = await s.run({input: t}, ['labels']);
console.log(r.labels.data.constructor.name, r.labels.data.buffer.constructor.name, r.labels.data.byteOffset, r.labels.data.buffer.byteLength, r.labels.data.length);
