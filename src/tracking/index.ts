export { createTracker, type Tracker } from './tracker.js';
export { trackerOptionsSchema, type TrackerOptions, type TrackerOptionsInput } from './options.js';
