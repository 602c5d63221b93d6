import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { resolveFfmpeg } from '../io/ffmpeg/binary.js';
import { Child, SIE_MAIN, freePort, sleep } from './children.js';
import { descendants, fdCount, rssKb } from './procfs.js';
import { createSoakDatabase, dropBenchDatabase, insertSoakRuns, prepareMedia } from './benchSetup.js';
import { formatSummary, summarise, type OutageRecord, type RunSample, type Sample, type SoakSummary } from './soakReport.js';
import { formatLoad } from './loadAverage.js';

export interface SoakOptions {
  streams: number;
  durationS: number;
  /** A camera outage every this many seconds (rotating over the cameras); 0 = none. */
  outageEveryS: number;
  outageLengthS: number;
  sampleEveryS: number;
  /** JSON lines: every sample, every outage, the summary last. */
  out: string;
  media: string;
  model: string;
  labels: string;
  /** End of warm-up (default: the first third of the soak). */
  warmupS?: number;
  /** How long after a camera's return its run may take to be running again (default 60 s: > max backoff). */
  recoveryTimeoutS?: number;
}

export interface SoakResult {
  summary: SoakSummary;
  /** 0 unless the soak itself broke (the engine exited under it). Missed goals do not count. */
  exitCode: number;
}

export interface SoakIo {
  print(text: string): void;
  /** Aborting ends the soak early, with a summary of what was measured. */
  signal?: AbortSignal;
}

/** The engine's last `run stats` log line of one run (see RunSupervisor.logStats). */
interface EngineRunStats {
  framesIn?: number;
  framesOut?: number;
  framesRepeated?: number;
  framesSlate?: number;
  dropped?: number;
  droppedEncoderBusy?: number;
  reconnects?: number;
}

/** One simulated camera (`sie camera`), restartable on the same port. */
class Camera {
  child: Child | undefined;
  constructor(
    readonly port: number,
    private readonly media: string,
  ) {}

  get url(): string {
    return `rtsp://127.0.0.1:${this.port}/cam`;
  }

  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.child = new Child(process.execPath, [SIE_MAIN, 'camera', this.media, '--port', String(this.port), '--host', '127.0.0.1', '--mount', 'cam']);
      try {
        await this.child.waitForLine(/^camera: /, 30_000, `camera on port ${this.port}`);
        return;
      } catch (err) {
        // The port may still be held for a moment by the process just killed.
        this.child.killTree();
        if (attempt >= 5) throw err;
        await sleep(500);
      }
    }
  }

  kill(): void {
    this.child?.killTree();
  }
}

/** An RTSP client reading one output stream (ffmpeg over TCP, discarding); restarted whenever it exits. */
class Reader {
  restarts = 0;
  private child: Child | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  constructor(private readonly url: string) {}

  get alive(): boolean {
    return this.child?.alive ?? false;
  }

  start(): void {
    const child = new Child(resolveFfmpeg(), ['-hide_banner', '-loglevel', 'error', '-nostdin', '-rtsp_transport', 'tcp', '-i', this.url, '-c', 'copy', '-f', 'null', '-']);
    this.child = child;
    void child.exited.then(() => {
      if (this.stopped) return;
      this.restarts++;
      this.retry = setTimeout(() => this.start(), 1000);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.child?.stop(3000);
  }
}

async function runStates(pool: Pool, ids: string[]): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ id: string; state: string }>('SELECT id, state FROM runs WHERE id = ANY($1::uuid[])', [ids]);
  return new Map(rows.map((r) => [r.id, r.state]));
}

/**
 * The soak: N simulated cameras, one `sie engine` process running one run per camera from a database of
 * its own, an output reader per stream, a camera killed and restarted on a schedule, and the engine's
 * RSS, fds, child processes and frame counters sampled throughout.
 */
export async function runSoak(o: SoakOptions, io: SoakIo): Promise<SoakResult> {
  const warmupS = o.warmupS ?? o.durationS / 3;
  const recoveryTimeoutS = o.recoveryTimeoutS ?? 60;
  const stop = new AbortController();
  const onUserAbort = () => stop.abort();
  io.signal?.addEventListener('abort', onUserAbort, { once: true });
  const cameras: Camera[] = [];
  const readers: Reader[] = [];
  let engine: Child | undefined;
  let engineStopping = false;
  let engineCrashed = false;
  const db = await createSoakDatabase();
  const tmp = mkdtempSync(join(tmpdir(), 'sie-soak-'));
  writeFileSync(o.out, '');

  try {
    const media = await prepareMedia(o.media, tmp);
    io.print(`soak: database ${db.name} (dropped at the end), temp dir ${tmp}\n`);
    io.print(`soak: media ${media.file} (${media.height}p at ${media.fps} fps${media.converted ? ', converted for the soak' : ''})\n`);
    for (let i = 0; i < o.streams; i++) cameras.push(new Camera(await freePort(), media.file));
    await Promise.all(cameras.map((c) => c.start()));

    const dataDir = join(tmp, 'data');
    const runIds = await insertSoakRuns(db.pool, { dataDir, model: o.model, labels: o.labels, cameraUrls: cameras.map((c) => c.url) });
    const rtspPort = await freePort();
    const stats = new Map<string, EngineRunStats>();
    const statsIntervalS = Math.min(2, o.sampleEveryS / 2);
    engine = new Child(
      process.execPath,
      [SIE_MAIN, 'engine', '--max-runs', String(o.streams), '--rtsp-port', String(rtspPort), '--rtsp-host', '127.0.0.1',
        '--advertise-host', '127.0.0.1', '--stats-interval', String(statsIntervalS)],
      {
        env: { SIE_DATABASE_URL: db.url, SIE_DATA_DIR: dataDir },
        onLine: (line) => {
          if (!line.includes('"run stats"')) return;
          try {
            const j = JSON.parse(line) as { msg?: string; runId?: string } & EngineRunStats;
            if (j.msg === 'run stats' && j.runId) stats.set(j.runId, j);
          } catch {
            // not one of pino's lines
          }
        },
        keep: 80,
      },
    );
    const enginePid = engine.pid;
    void engine.exited.then((exit) => {
      if (engineStopping) return;
      engineCrashed = true;
      io.print(`soak: THE ENGINE EXITED (code ${exit.code}, signal ${exit.signal}); its last lines:\n${engine!.recent()}\n`);
      stop.abort();
    });
    await engine.waitForLine(/^engine: /, 60_000, 'engine');

    // Everything running before the clock starts: model loading and first connections are not the soak.
    const readyBy = Date.now() + 120_000;
    for (;;) {
      const states = await runStates(db.pool, runIds);
      if (runIds.every((id) => states.get(id) === 'running')) break;
      if (stop.signal.aborted) throw new Error('the soak was stopped before every run was running');
      if (Date.now() > readyBy) throw new Error(`runs not all running after 120 s: ${JSON.stringify(Object.fromEntries(states))}\n${engine.recent()}`);
      await sleep(500, stop.signal);
    }
    for (const [i] of runIds.entries()) readers.push(new Reader(`rtsp://127.0.0.1:${rtspPort}/soak-${i}`));
    readers.forEach((r) => r.start());

    const t0 = Date.now();
    const endAt = t0 + o.durationS * 1000;
    const nowS = () => (Date.now() - t0) / 1000;
    const record = (x: Sample | OutageRecord | SoakSummary) => appendFileSync(o.out, `${JSON.stringify(x)}\n`);
    io.print(`soak: ${o.streams} runs running; ${o.durationS} s from now, outage every ${o.outageEveryS || '-'} s for ${o.outageLengthS} s, samples every ${o.sampleEveryS} s to ${o.out}\n`);

    let outageActive = false;
    const samples: Sample[] = [];
    const takeSample = async (): Promise<void> => {
      const states = await runStates(db.pool, runIds);
      const runs: RunSample[] = runIds.map((id, i) => {
        const s = stats.get(id) ?? {};
        return {
          runId: id,
          stream: i,
          state: states.get(id) ?? 'unknown',
          framesIn: s.framesIn ?? 0,
          framesOut: s.framesOut ?? 0,
          dropped: s.dropped ?? 0,
          encoderBusy: s.droppedEncoderBusy ?? 0,
          slate: s.framesSlate ?? 0,
          repeated: s.framesRepeated ?? 0,
          reconnects: s.reconnects ?? 0,
        };
      });
      const sum = (k: 'framesIn' | 'framesOut' | 'dropped') => runs.reduce((a, r) => a + r[k], 0);
      const s: Sample = {
        type: 'sample',
        tS: Math.round(nowS() * 10) / 10,
        at: new Date().toISOString(),
        engine: { pid: enginePid, rssKb: rssKb(enginePid) ?? 0, fds: fdCount(enginePid) ?? 0, children: descendants(enginePid).length },
        load: loadavg() as [number, number, number],
        runs,
        totals: { framesIn: sum('framesIn'), framesOut: sum('framesOut'), dropped: sum('dropped') },
        readers: { alive: readers.filter((r) => r.alive).length, restarts: readers.reduce((a, r) => a + r.restarts, 0) },
        steady: !outageActive && runs.every((r) => r.state === 'running'),
      };
      samples.push(s);
      record(s);
      io.print(
        `[${String(Math.round(s.tS)).padStart(5)} s] rss ${(s.engine.rssKb / 1024).toFixed(1)} MB  fds ${s.engine.fds}  children ${s.engine.children}  ` +
          `frames in ${s.totals.framesIn} out ${s.totals.framesOut} dropped ${s.totals.dropped}  ` +
          `running ${runs.filter((r) => r.state === 'running').length}/${runs.length}  load ${formatLoad(s.load)}\n`,
      );
    };

    const sampling = (async () => {
      for (let k = 0; t0 + k * o.sampleEveryS * 1000 < endAt; k++) {
        await sleep(t0 + k * o.sampleEveryS * 1000 - Date.now(), stop.signal);
        if (stop.signal.aborted) return;
        await takeSample();
      }
    })();

    const outages: OutageRecord[] = [];
    const outage = async (index: number): Promise<OutageRecord> => {
      const stream = index % o.streams;
      const runId = runIds[stream]!;
      const before = await db.pool.query<{ id: string }>('SELECT coalesce(max(id), 0) AS id FROM run_transitions WHERE run_id = $1', [runId]);
      outageActive = true;
      cameras[stream]!.kill();
      const killedAtS = nowS();
      io.print(`soak: outage ${index + 1}: camera ${stream} killed\n`);
      await sleep(o.outageLengthS * 1000, stop.signal);
      await cameras[stream]!.start();
      const restartedAtS = nowS();
      let sawRetrying = false;
      let runningAgainAtS: number | null = null;
      let allRunning = false;
      const deadline = Date.now() + recoveryTimeoutS * 1000;
      while (Date.now() < deadline && !stop.signal.aborted) {
        const { rows } = await db.pool.query<{ to_state: string; at: Date }>(
          'SELECT to_state, at FROM run_transitions WHERE run_id = $1 AND id > $2 ORDER BY id',
          [runId, before.rows[0]!.id],
        );
        const retryAt = rows.findIndex((r) => r.to_state === 'retrying');
        sawRetrying = retryAt >= 0;
        const back = sawRetrying ? rows.slice(retryAt).find((r) => r.to_state === 'running') : undefined;
        if (back) {
          runningAgainAtS = Math.round(((back.at.getTime() - t0) / 1000) * 10) / 10;
          const states = await runStates(db.pool, runIds);
          allRunning = runIds.every((id) => states.get(id) === 'running');
          if (allRunning) break;
        }
        await sleep(500);
      }
      outageActive = false;
      const rec: OutageRecord = {
        type: 'outage',
        index,
        stream,
        runId,
        killedAtS: Math.round(killedAtS * 10) / 10,
        restartedAtS: Math.round(restartedAtS * 10) / 10,
        sawRetrying,
        runningAgainAtS,
        allRunning,
      };
      io.print(
        `soak: outage ${index + 1}: camera ${stream} back at ${rec.restartedAtS} s; run ${sawRetrying ? 'went retrying' : 'NEVER went retrying'}, ` +
          `${runningAgainAtS !== null ? `running again at ${runningAgainAtS} s` : 'NOT running again'}; every run running: ${allRunning ? 'yes' : 'NO'}\n`,
      );
      return rec;
    };
    const outageLoop = (async () => {
      if (o.outageEveryS <= 0) return;
      for (let k = 1; t0 + k * o.outageEveryS * 1000 < endAt; k++) {
        await sleep(t0 + k * o.outageEveryS * 1000 - Date.now(), stop.signal);
        if (stop.signal.aborted) return;
        const rec = await outage(k - 1);
        outages.push(rec);
        record(rec);
      }
    })();

    await sleep(endAt - Date.now(), stop.signal);
    await sampling;
    // An outage still in progress is finished (camera back, recovery judged) before the last sample.
    await outageLoop;
    if (!engineCrashed) await takeSample();
    const summary = summarise(samples, outages, { streams: o.streams, durationS: Math.round(Math.min(o.durationS, nowS())), warmupS, engineCrashed, load: loadavg() as [number, number, number] });
    record(summary);
    io.print(formatSummary(summary));
    return { summary, exitCode: engineCrashed ? 1 : 0 };
  } finally {
    io.signal?.removeEventListener('abort', onUserAbort);
    await Promise.all(readers.map((r) => r.stop()));
    engineStopping = true;
    // SIGTERM releases the runs (a drain waits up to 30 s); then the cameras.
    await engine?.stop(40_000);
    await Promise.all(cameras.map((c) => c.child?.stop(5000)));
    await dropBenchDatabase(db, (t) => io.print(t));
    rmSync(tmp, { recursive: true, force: true });
  }
}
