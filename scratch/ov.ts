import sharp from 'sharp';
import { readFileSync } from 'node:fs';
const W=960,H=540; const data = new Uint8Array(readFileSync('/tmp/pt/f100.rgb'));
console.log('concurrency', sharp.concurrency());
for (const c of [0,1]) { if (c) sharp.concurrency(1);
for (let i=0;i<15;i++){ const t=performance.now(); await sharp(data,{raw:{width:W,height:H,channels:3}}).jpeg({quality:80}).toBuffer(); if(i>=10) console.log('jpeg', c, (performance.now()-t).toFixed(1)); }
for (let i=0;i<10;i++){ const t=performance.now(); await sharp(data,{raw:{width:W,height:H,channels:3}}).jpeg({quality:80, chromaSubsampling:'4:2:0', optimiseCoding:false}).toBuffer(); if(i>=7) console.log('jpeg-fast', c, (performance.now()-t).toFixed(1)); }
}
