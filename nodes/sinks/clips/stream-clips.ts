import path from 'node:path';
import type { FramePacket } from '../../../pipeline/frame.ts';
import type { AnalyticsEvent } from '../../../pipeline/analytics-types.ts';
import { ClipWriter, type FinishedClip } from './clip-writer.ts';
import { streamFolder } from './stream-folder.ts';
import { FrameRing } from './frame-ring.ts';

export interface StreamClipsOptions {
  readonly dir: string;
  readonly preMs: number;
  readonly postMs: number;
  /** Longest clip: one that events keep extending is ended here, and the next event starts another. */
  readonly maxClipMs: number;
  readonly ringBytes: number;
  readonly maxPendingBytes: number;
}

/** What the sink is told of a stream's clips, to index them and write snapshots. */
export interface StreamClipsEvents {
  /** An event of a frame, with the names (relative to the clips folder) of its clip and snapshot. */
  onEvent(event: AnalyticsEvent, clip: string, snapshot: string, packet: FramePacket): void;
  /** A clip whose end has come (or the run's): written by `finish`, reported by the promise. */
  onClipEnded(clip: string, events: number, finished: Promise<FinishedClip>, cut: boolean): void;
  /** A frame left out of a clip (the disk is behind). */
  onFrameLeftOut(): void;
}

interface OpenClip {
  readonly writer: ClipWriter;
  readonly name: string;
  /** The clip ends with the first frame at or after this time. */
  endAtMs: number;
  events: number;
}

/**
 * One stream's clips: the ring of the last `pre` of encoded pictures, and the clip open now.
 * An event with no clip open starts one with the ring's frames (from `pre` before it); an event
 * while a clip is open (within `post` of the last event) extends it to `post` after itself.
 * The clip ends with the first frame `post` after its last event, or when it reaches `maxClipMs`.
 */
export class StreamClips {
  private readonly ring: FrameRing;
  private open: OpenClip | undefined;
  private readonly folder: string;

  constructor(
    stream: string,
    private readonly options: StreamClipsOptions,
    private readonly events: StreamClipsEvents,
  ) {
    this.ring = new FrameRing(options.preMs, options.ringBytes);
    this.folder = streamFolder(stream);
  }

  write(packet: FramePacket): void {
    const overlay = packet.overlay;
    if (!overlay) return;
    const frame = { jpeg: overlay.jpeg, ptsMs: packet.frame.ptsMs };
    this.ring.push(frame);
    if (this.open && frame.ptsMs - (this.open.writer.startPtsMs ?? frame.ptsMs) > this.options.maxClipMs) this.end(false);
    if (this.open && !this.open.writer.add(frame)) this.events.onFrameLeftOut();
    for (const event of packet.analytics?.events ?? []) {
      const base = event.id;
      let clip = this.open;
      if (!clip) {
        const name = path.join(this.folder, `${base}.mkv`);
        const writer = new ClipWriter(path.join(this.options.dir, name), this.options.maxPendingBytes);
        for (const f of this.ring.contents()) if (!writer.add(f)) this.events.onFrameLeftOut();
        clip = this.open = { writer, name, endAtMs: event.ptsMs + this.options.postMs, events: 0 };
      }
      clip.endAtMs = Math.max(clip.endAtMs, event.ptsMs + this.options.postMs);
      clip.events++;
      this.events.onEvent(event, clip.name, path.join(this.folder, `${base}.jpg`), packet);
    }
    if (this.open && frame.ptsMs >= this.open.endAtMs) this.end(false);
  }

  /** Ends the open clip (the run stops: `cut`, short of its `post`). */
  end(cut: boolean): void {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    this.events.onClipEnded(open.name, open.events, open.writer.finish(), cut);
  }

  /** Why the open clip cannot be written, if it cannot. */
  get failure(): string | undefined {
    return this.open?.writer.failure;
  }
}
