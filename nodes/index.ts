/**
 * Every built-in node type, as the graph builder looks them up by `type`. Adding a node is:
 * write it under nodes/<layer>/, then list it here.
 */
import { NodeRegistry } from '../pipeline/registry.ts';
import { analytics } from './analytics/analytics.ts';
import { panopticFusion } from './fusion/panoptic-fusion.ts';
import { crowdDensity } from './heads/crowd-density.ts';
import { instanceSegmentation } from './heads/instance-segmentation.ts';
import { objectDetection } from './heads/object-detection.ts';
import { semanticSegmentation } from './heads/semantic-segmentation.ts';
import { motionSegmentation } from './motion/motion-segmentation.ts';
import { overlay } from './render/overlay.ts';
import { redact } from './render/redact.ts';
import { clipsSink } from './sinks/clips/clips-sink.ts';
import { cocoInstancesSink } from './sinks/coco-instances-sink.ts';
import { eventsSink } from './sinks/events-sink.ts';
import { foxgloveSink } from './sinks/foxglove/foxglove-sink.ts';
import { metricsSink } from './sinks/metrics/metrics-sink.ts';
import { motFileSink } from './sinks/mot-file-sink.ts';
import { mqttSink } from './sinks/mqtt/mqtt-sink.ts';
import { natsSink } from './sinks/nats/nats-sink.ts';
import { panopticPngSink } from './sinks/panoptic-png-sink.ts';
import { mcapSink } from './sinks/mcap/mcap-sink.ts';
import { recordSink } from './sinks/record-sink.ts';
import { viewerSink } from './sinks/viewer/viewer-sink.ts';
import { ffmpegSource } from './sources/ffmpeg-source.ts';
import { mcapSource } from './sources/mcap-source.ts';
import { motDetectionsSource } from './sources/mot-detections-source.ts';
import { tracker } from './tracking/tracker.ts';

export function builtinNodes(): NodeRegistry {
  return new NodeRegistry([
    // sources
    ffmpegSource,
    mcapSource,
    motDetectionsSource,
    // operators, in the order a typical graph uses them
    semanticSegmentation,
    instanceSegmentation,
    objectDetection,
    motionSegmentation,
    crowdDensity,
    panopticFusion,
    tracker,
    analytics,
    redact,
    overlay,
    // sinks
    viewerSink,
    foxgloveSink,
    eventsSink,
    motFileSink,
    panopticPngSink,
    cocoInstancesSink,
    recordSink,
    mcapSink,
    clipsSink,
    natsSink,
    mqttSink,
    metricsSink,
  ]);
}
