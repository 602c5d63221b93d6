import { z } from 'zod';

/**
 * Tracker settings. Times are in seconds of SOURCE time (pts), never frames: users cannot know how many frames
 * a buffer is when the camera's rate or every_nth_frame changes (supervision#1805).
 */
/** The tracker's default low_score_threshold: the run's detector keeps boxes down to it. */
export const WEAK_DETECTION_SCORE = 0.1;

export const trackerOptionsSchema = z
  .object({
    track_activation_threshold: z
      .number()
      .min(0)
      .max(1)
      .default(0.25)
      .describe('detections scoring at least this are matched first and may start a new track'),
    low_score_threshold: z
      .number()
      .min(0)
      .max(1)
      .default(WEAK_DETECTION_SCORE)
      .describe('detections between this and track_activation_threshold only extend existing tracks (ByteTrack second pass)'),
    minimum_matching_threshold: z
      .number()
      .min(0)
      .max(1)
      .default(0.8)
      .describe('a track and a detection match when 1 - IoU x score is below this (higher = looser matching)'),
    distance_matching_threshold: z
      .number()
      .min(0)
      .max(2)
      .default(0.5)
      .describe(
        'after IoU matching, a confirmed track and a detection of its class still match when their centres are closer than this many box heights (0 = off): with detection on every n-th frame or a slow camera, a walker moves most of its width between detections and IoU alone loses it',
      ),
    lost_track_buffer_s: z
      .number()
      .min(0)
      .max(60)
      .default(1)
      .describe('seconds of source time a track survives without a detection; a gap up to this keeps the id'),
    minimum_consecutive_frames: z
      .number()
      .int()
      .min(1)
      .max(30)
      .default(1)
      .describe('detection frames in a row a new track must be matched before it gets an id'),
    max_tracks: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(1000)
      .describe('cap on live tracks; when full, the longest-lost track is dropped, else no new track starts'),
  })
  .strict();

export type TrackerOptions = z.infer<typeof trackerOptionsSchema>;
export type TrackerOptionsInput = z.input<typeof trackerOptionsSchema>;
