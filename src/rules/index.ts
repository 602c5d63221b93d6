export { createRulesEngine, type RulesEngine, type RulesEngineOptions, type RulesInput, type RulesOutput } from './engine.js';
export type { RuleEvent, RuleEventType, CrossingDirection } from './events.js';
export type { RuleCounters } from './types.js';
export { createDetectionFilter, type DetectionFilters } from './filters.js';
