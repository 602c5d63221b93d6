import { z } from 'zod';

/**
 * `rules` section. The rule types (zones, lines, dwell, occupancy, absence) arrive with the rules issue;
 * until then a config may only carry an empty list, so nothing a client writes is silently ignored.
 */
export const rulesConfigSchema = z.array(z.never()).max(0, 'rules are not supported yet').default([]);

export type RulesConfig = z.infer<typeof rulesConfigSchema>;
