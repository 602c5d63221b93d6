/**
 * The rules package, and its only import surface from outside src/rules (eslint.config.js enforces it):
 * the engine that turns tracked detections into events, the event record it emits, its counters.
 * One file per rule type lives behind it.
 */
export { createRulesEngine, type RulesEngine, type RulesEngineOptions, type RulesInput, type RulesOutput } from './engine.js';
export type { RuleEvent, RuleEventType, CrossingDirection } from './events.js';
export type { RuleCounters } from './types.js';
export { createDetectionFilter, type DetectionFilters } from './filters.js';
