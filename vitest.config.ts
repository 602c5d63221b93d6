import { defineConfig } from 'vitest/config';

// Tests drive real processes (ffmpeg, RTSP clients, the model): give them room, and run files
// in a few forks only so two cores are not oversubscribed.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ first when src/ is newer: tests that start bin/sie must not run the last build.
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
