// The inference module's public surface: actors and the CLI import from here, not from the parts.
export type { DetectorAdapter, Letterbox, PostprocessOptions, YuvFrame } from './adapter.js';
export {
  createDetector,
  DEFAULT_CONFIDENCE,
  DEFAULT_IOU,
  resolveClassFilter,
  type DetectResult,
  type DetectTiming,
  type Detector,
  type DetectorOptions,
} from './detector.js';
export { letterboxYuv420p } from './letterbox.js';
export {
  loadLabels,
  loadModelSpec,
  modelFormatSchema,
  modelSpecSchema,
  parseModelSpec,
  projectRoot,
  resolveModelSpec,
  type ModelFormat,
  type ModelSpec,
  type ResolvedModelSpec,
} from './modelSpec.js';
export { getSession, loadedSessions, releaseAllSessions } from './session.js';
