/** What browser tests read to know the page works (`window.__panoptes`). */
import type { VideoHeader } from '../servers/viewer-protocol/protocol.ts';

export interface Probe {
  framesDrawn: number;
  lastHeader: VideoHeader | null;
  countsReceived: number;
  /** The streams' names, in the order they became known. */
  readonly streams: string[];
  densityReceived: number;
  densityLayerDrawn: number;
}

export const probe: Probe = { framesDrawn: 0, lastHeader: null, countsReceived: 0, streams: [], densityReceived: 0, densityLayerDrawn: 0 };

(window as Window & { __panoptes?: Probe }).__panoptes = probe;
