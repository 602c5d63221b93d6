import { z } from 'zod';
import { polygonSchema } from './rules.js';

const className = z.string().min(1).max(200);

/**
 * Classes the model tells apart that the client counts as one (the white van of the plaza is detected as
 * `car` and `truck` at once: two tags, two tracks, two dwell events). Only the shape is checked here; the
 * names are checked against the model's labels where a config meets its model (config/classNames.ts).
 */
export const classGroupsSchema = z
  .record(className, z.array(className).min(1).max(1000))
  .default({})
  .superRefine((groups, ctx) => {
    const names = Object.keys(groups);
    if (names.length > 100) ctx.addIssue({ code: 'custom', message: 'at most 100 class groups' });
    const owner = new Map<string, string>();
    for (const [group, members] of Object.entries(groups)) {
      members.forEach((member, i) => {
        const first = owner.get(member);
        if (first !== undefined) {
          const where = first === group ? 'twice in this group' : `also in group '${first}'`;
          ctx.addIssue({ code: 'custom', path: [group, i], message: `'${member}' is ${where}: a class belongs to one group at most` });
        }
        owner.set(member, group);
      });
    }
    for (const group of names) {
      // A group may keep the name of one of its own members ("car": ["car", "truck"]), never another group's member.
      const holder = owner.get(group);
      if (holder !== undefined && holder !== group) {
        ctx.addIssue({ code: 'custom', path: [group], message: `the group name '${group}' is a member of group '${holder}'` });
      }
    }
  })
  .describe(
    'group name → model class names detected as that one class: NMS treats the members as one class (a box of ' +
      'one suppresses an overlapping weaker box of another), detections and tracks carry the group\'s name, and ' +
      'rules, colours and filters name the group. Example: {"vehicle": ["car", "truck", "bus"]}. A group may ' +
      'take the name of one of its members; other model classes are unchanged',
  );

/** `inference` section of a client config: what the detector keeps. Validated once, at the edge. */
export const inferenceConfigSchema = z
  .object({
    confidence: z.number().min(0).max(1).default(0.3).describe('minimum score (objectness x class) a detection needs'),
    iou: z
      .number()
      .min(0)
      .max(1)
      .default(0.45)
      .describe('IoU above which NMS suppresses the weaker of two boxes it compares (see nms)'),
    nms: z
      .enum(['per_class', 'agnostic'])
      .default('per_class')
      .describe(
        'per_class: boxes of different classes never suppress each other (a class group counts as one class); ' +
          'agnostic: one box per object whatever its class, the best scoring kept',
      ),
    class_groups: classGroupsSchema,
    classes: z
      .array(z.string().min(1).max(200))
      .max(1000)
      .optional()
      .describe("class names to keep (the model's labels, or class group names); all when absent"),
    every_nth_frame: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(1)
      .describe('run the detector on every n-th frame only; tracks carry the others'),
    min_area: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe('drop detections whose box covers less than this fraction of the frame area (0 = keep all)'),
    ignore_zones: z
      .array(polygonSchema)
      .max(50)
      .default([])
      .describe('polygons (fractions of the frame) where detections are dropped before tracking, judged by the box bottom centre'),
  })
  .strict();

export type InferenceConfig = z.infer<typeof inferenceConfigSchema>;
