/**
 * The two servers that stream to the network (the viewer and the Foxglove endpoint), behind one
 * shape, so the hostile-client tests run the same attacks on both: where to connect, how a
 * client subscribes to the video, how to recognise a frame, and packets to serve.
 */
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import type { RawData, WebSocket } from 'ws';
import { createFoxgloveSink, foxgloveSink } from '../../nodes/sinks/foxglove/foxglove-sink.ts';
import { createViewerSink, viewerSink } from '../../nodes/sinks/viewer/viewer-sink.ts';
import type { FramePacket, PanopticFrame } from '../../pipeline/frame.ts';
import type { Sink } from '../../pipeline/node.ts';
import { graphContext } from '../helpers/data-dir.ts';
import { testClassSet, withRuns } from '../helpers/panoptic.ts';

export const WIDTH = 320;
export const HEIGHT = 180;

export interface ServedSink {
  readonly sink: Sink;
  /** The WebSocket URL. */
  readonly wsUrl: string;
  /** Subprotocols a client must offer. */
  readonly protocols: readonly string[];
  /** `host:port` of the server. */
  readonly hostPort: string;
  /** The message that subscribes to the video, given the server's messages so far. */
  subscribeMessage(received: readonly string[]): string;
  /** Whether a message from the server is a video frame. */
  isFrame(data: RawData, isBinary: boolean): boolean;
  /** Lines the sink logged. */
  readonly logLines: readonly string[];
}

export type ServerKind = 'viewer' | 'foxglove';

export async function serve(kind: ServerKind, options: Record<string, unknown> = {}): Promise<ServedSink> {
  const ctx = graphContext(['cam']);
  if (kind === 'viewer') {
    const sink = await createViewerSink(viewerSink.options.parse({ port: 0, ...options }), ctx);
    return {
      sink,
      wsUrl: `${sink.url.replace('http', 'ws')}/ws`,
      protocols: [],
      hostPort: new URL(sink.url).host,
      subscribeMessage: () => JSON.stringify({ type: 'subscribe', topics: ['video'], streams: ['*'] }),
      isFrame: (_data, isBinary) => isBinary,
      logLines: ctx.log.lines,
    };
  }
  const sink = await createFoxgloveSink(foxgloveSink.options.parse({ port: 0, ...options }), ctx);
  return {
    sink,
    wsUrl: sink.url,
    protocols: ['foxglove.websocket.v1'],
    hostPort: new URL(sink.url).host,
    subscribeMessage(received) {
      const adverts = received.map((text) => JSON.parse(text) as { op?: string; channels?: { id: number; topic: string }[] });
      const image = adverts.flatMap((m) => (m.op === 'advertise' ? m.channels ?? [] : [])).find((c) => c.topic === '/cam/image');
      if (!image) throw new Error('the Foxglove server advertised no /cam/image channel');
      return JSON.stringify({ op: 'subscribe', subscriptions: [{ id: 1, channelId: image.id }] });
    },
    // messageData: opcode 1, then the subscription id.
    isFrame: (data, isBinary) => isBinary && (data as Buffer)[0] === 1,
    logLines: ctx.log.lines,
  };
}

/** A JPEG of noise: barely compresses, so a few frames fill a socket's buffers. */
export async function noisyJpeg(width: number, height: number): Promise<Buffer> {
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

function panoptic(): PanopticFrame {
  const segmentMap = new Uint32Array(WIDTH * HEIGHT).fill(1);
  const segments = withRuns(segmentMap, WIDTH, [
    { id: 1, classId: 0, className: 'road', isThing: false, area: WIDTH * HEIGHT, bbox: [0, 0, WIDTH, HEIGHT], score: 1 },
  ]);
  return { width: WIDTH, height: HEIGHT, classMap: new Uint8Array(WIDTH * HEIGHT), segmentMap, segments, classes: testClassSet(['road', 'car'], ['car']) };
}

/** Frame `seq` of stream `cam`, with `jpeg` as its overlay. */
export function packet(seq: number, jpeg: Buffer, overlay = { width: WIDTH, height: HEIGHT }): FramePacket {
  return {
    frame: { stream: 'cam', seq, ptsMs: seq * 40, width: WIDTH, height: HEIGHT, data: new Uint8Array(WIDTH * HEIGHT * 3), capturedAtMs: Date.now() },
    timings: {},
    panoptic: panoptic(),
    overlay: { jpeg, ...overlay },
    leases: [],
  };
}

/** A client that records what it gets; `frames` counts video frames. */
export interface Watcher {
  readonly socket: WebSocket;
  readonly texts: string[];
  frames: number;
  closeCode: number | undefined;
}
