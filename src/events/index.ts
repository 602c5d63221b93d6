/**
 * Events after the rules: written to PostgreSQL first (store), then delivered at least once from the
 * table by independent loops (webhook, MQTT), pruned after the retention; plus the runs' live counters.
 */
export { createEventStore, type EventStore, type EventStoreOptions, type EventStoreStats } from './store.js';
export {
  createWebhookDeliverer,
  createConfigWebhookResolver,
  type Deliverer,
  type ResolveWebhook,
  type WebhookDelivererOptions,
  type WebhookStats,
  type WebhookTarget,
} from './webhook.js';
export { createMqttDeliverer, eventTopic, mqttUrlFromEnv, type MqttDelivererOptions, type MqttStats } from './mqtt.js';
export {
  createEventPruner,
  DEFAULT_EVENT_RETENTION_HOURS,
  eventRetentionHours,
  pruneEvents,
  type EventPruner,
  type EventPrunerOptions,
} from './prune.js';
export { createCountersWriter, updateRunCounters, type CountersWriter, type CountersWriterOptions, type RunCountersWrite } from './counters.js';
export { storedEventFromRow, type StoredEvent } from './view.js';
export { streamRunEvents, type SseOptions, type SseStream } from './sse.js';
