import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { loadModelCatalog, findModel } from '../nodes/inference/model-catalog.ts';
import { openModelSession } from '../nodes/inference/model-session.ts';
import { createPreprocessor } from '../nodes/inference/preprocess.ts';
import { decodeYoloSeg } from '../nodes/heads/yolo-seg.ts';
import { fusePanoptic, LabelScaler } from '../nodes/fusion/fuse-panoptic.ts';
import { createLogger } from '../pipeline/log.ts';
const data = new Uint8Array(readFileSync('/tmp/pt/f100.rgb'));
const W = 960, H = 540;
const cat = loadModelCatalog();
const log = createLogger();
const sem = await openModelSession(findModel(cat, 'espnetv2-s1.5'), '/work/shared', ['cpu'], log);
const ins = await openModelSession(findModel(cat, 'yolov8n-seg-320'), '/work/shared', ['cpu'], log);
const p1 = createPreprocessor(sem.entry.input), p2 = createPreprocessor(ins.entry.input);
const o1 = await sem.run(p1({ width: W, height: H, data }).tensor);
const lab = o1.labels!;
const { tensor, transform } = p2({ width: W, height: H, data });
const o2 = await ins.run(tensor);
const inst = decodeYoloSeg('y', ins.entry.classes.names, { predictions: o2.output0!.data as Float32Array, predictionDims: o2.output0!.dims, prototypes: o2.output1!.data as Float32Array, prototypeDims: o2.output1!.dims }, { inputWidth: 320, inputHeight: 320, frameWidth: W, frameHeight: H, transform }, { minScore: 0.3, iouThreshold: 0.5, maxDetections: 100 });
console.log('transform', transform);
for (let i = 0; i < inst.count; i++) console.log(inst.classNames[inst.classIds[i]!], inst.scores[i]!.toFixed(2), Array.from(inst.boxes.slice(i*4,i*4+4)).map(v=>v.toFixed(0)).join(','), inst.masks![i]!.data.reduce((a,b)=>a+b,0));
const cs = sem.entry.classes;
const map: Record<string,string> = { person: 'person', car: 'car', truck: 'truck', bus: 'bus', bicycle: 'bicycle', motorbike: 'motorcycle', train: 'train' };
const classes = { names: cs.names, isThing: cs.isThing, isVoid: cs.isVoid, instanceToPanoptic: Int32Array.from(inst.classNames, n => map[n] ? cs.names.indexOf(map[n]!) : -1), person: 11, rider: 12 };
const out = { classMap: new Uint8Array(W*H), segmentMap: new Uint32Array(W*H) };
const t0 = performance.now();
const r = fusePanoptic(W, H, { model: 's', width: 512, height: 256, labels: lab.data as Uint8Array, classNames: cs.names }, inst, classes, { minArea: 64, minVisibleFraction: 0.5 }, out, new LabelScaler());
console.log('fusion ms', performance.now() - t0);
console.log(r.segments.map(s => `${s.id} ${s.className} ${s.area} [${s.bbox}]`).join('\n'));
// bottom quarter road fraction
let road = 0; for (let p = W*H*3/4; p < W*H; p++) if (out.classMap[p] === 0) road++;
console.log('road fraction bottom quarter', road / (W*H/4));
const img = Buffer.alloc(W*H*3);
for (let p = 0; p < W*H; p++) { const c = out.classMap[p]!; const col = c === 255 ? [0,0,0] : cs.palette![c]!; const s = out.segmentMap[p]!; const thing = r.segments.find(x=>x.id===s)?.isThing; for (let k=0;k<3;k++) img[p*3+k] = thing ? (col[k]! + 60*s)%256 : Math.round(data[p*3+k]!*0.4 + col[k]!*0.6); }
await sharp(img, { raw: { width: W, height: H, channels: 3 } }).png().toFile('/tmp/pt/fused.png');
const sc = new LabelScaler();
for (let i = 0; i < 20; i++) { const t = performance.now(); fusePanoptic(W, H, { model: 's', width: 512, height: 256, labels: lab.data as Uint8Array, classNames: cs.names }, inst, classes, { minArea: 64, minVisibleFraction: 0.5 }, out, sc); if (i%5==4) console.log('fusion ms', (performance.now() - t).toFixed(2)); }
for (let i = 0; i < 20; i++) { const t = performance.now(); p1({ width: W, height: H, data }); p2({ width: W, height: H, data }); if (i%5==4) console.log('prep ms', (performance.now() - t).toFixed(2)); }
