import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RtspServer, type RtspMount } from '../../../src/io/rtsp/index.js';
import { ProcessTracker, startEncoder, waitFor, type RunResult } from '../../helpers/rtspProcs.js';
import { progressFrames } from '../../helpers/media.js';

// Real, independent clients (FFmpeg, GStreamer, tshark's RTP analysis) against the server on loopback,
// fed by a real-time x264/x265 encoder. Nothing here asserts on timing: clients run until they have
// what they need, and bounded timeouts only catch hangs.

const has = (cmd: string): boolean => spawnSync('which', [cmd]).status === 0;
const PASSWORD = 'Zq8-secret';
const logLines: string[] = [];
const encoders = new ProcessTracker(); // live for the whole file
const procs = new ProcessTracker(); // clients, killed after each test
let server: RtspServer;
let live: RtspMount;
let gone: RtspMount;
let tmp: string;
const url = (path: string, userinfo = ''): string => `rtsp://${userinfo}127.0.0.1:${server.port}/${path}`;

/** Frames decoded, from `-progress pipe:1` output. */
const framesOf = (r: RunResult): number => progressFrames(r.stdout);

function ffprobe(u: string, transport: 'tcp' | 'udp' = 'tcp', extra: string[] = []): Promise<RunResult> {
  return procs.run('ffprobe', ['-v', 'error', '-rtsp_transport', transport, ...extra, '-of', 'json', u], 20_000);
}

function decode(u: string, transport: 'tcp' | 'udp', limit: string[]): Promise<RunResult> {
  return procs.run('ffmpeg', ['-nostdin', '-v', 'error', '-rtsp_transport', transport, '-i', u, ...limit, '-f', 'null', '-', '-progress', 'pipe:1'], 30_000);
}

function streamInfo(r: RunResult): { codec_name: string; width: number; height: number } {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).streams[0];
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'sie-rtsp-'));
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logLines.push(s) });
  server = new RtspServer({ host: '127.0.0.1', port: 0, logger });
  await server.listen();
  live = server.createMount('live', { codec: 'h264' });
  gone = server.createMount('gone', { codec: 'h264' });
  const secure = server.createMount('secure', { codec: 'h264', auth: { user: 'admin', password: PASSWORD } });
  const basic = server.createMount('basic', { codec: 'h264', auth: { user: 'admin', password: PASSWORD, methods: ['basic'] } });
  const enc = startEncoder(encoders, [live, gone, secure, basic], 'h264');
  // Past the first GOP, so late readers start from the cache.
  await waitFor(() => enc.frames > 30, 'encoder output', 20_000);
});

afterEach(async () => {
  await procs.killAll();
});

afterAll(async () => {
  await procs.killAll();
  await encoders.killAll();
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('FFmpeg', () => {
  it.each(['tcp', 'udp'] as const)('ffprobe reads the stream over %s', async (transport) => {
    const r = await ffprobe(url('live'), transport, ['-show_entries', 'stream=codec_name,width,height']);
    expect(streamInfo(r)).toEqual({ codec_name: 'h264', width: 640, height: 360 });
  });

  it('ffmpeg decodes 3 s over TCP without errors, and TEARDOWN frees its session', async () => {
    const r = await decode(url('live'), 'tcp', ['-t', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim()).toBe('');
    expect(framesOf(r)).toBeGreaterThanOrEqual(70);
    await waitFor(() => live.readerCount === 0 && server.sessionCount === 0, 'session freed');
  });

  it('a late reader starts at a keyframe', async () => {
    const r = await ffprobe(url('live'), 'tcp', ['-select_streams', 'v', '-show_entries', 'frame=key_frame,pict_type,coded_picture_number', '-read_intervals', '%+#3']);
    expect(r.code, r.stderr).toBe(0);
    const frames = JSON.parse(r.stdout).frames as Record<string, unknown>[];
    expect(frames[0]).toMatchObject({ key_frame: 1, pict_type: 'I', coded_picture_number: 0 });
  });

  it('serves a TCP and a UDP reader at once', async () => {
    const [tcp, udp] = await Promise.all([decode(url('live'), 'tcp', ['-frames:v', '50']), decode(url('live'), 'udp', ['-frames:v', '50'])]);
    expect(tcp.code, tcp.stderr).toBe(0);
    expect(udp.code, udp.stderr).toBe(0);
    expect(framesOf(tcp)).toBe(50);
    expect(framesOf(udp)).toBe(50);
  });

  it('keeps serving others while one reader is SIGSTOPped', async () => {
    const stopped = procs.spawn('ffmpeg', ['-nostdin', '-v', 'error', '-rtsp_transport', 'tcp', '-i', url('live'), '-f', 'null', '-', '-progress', 'pipe:1']);
    let progressed = false;
    stopped.stdout?.on('data', (d: Buffer) => (progressed ||= /frame=[1-9]/.test(d.toString())));
    await waitFor(() => progressed && live.readerCount === 1, 'first reader playing', 20_000);
    stopped.kill('SIGSTOP');
    const before = live.stats.accessUnits;
    const other = await decode(url('live'), 'tcp', ['-frames:v', '75']);
    expect(other.code, other.stderr).toBe(0);
    expect(framesOf(other)).toBe(75);
    // The writer was never held up by the stopped reader.
    expect(live.stats.accessUnits - before).toBeGreaterThanOrEqual(40);
    stopped.kill('SIGKILL');
    await waitFor(() => live.readerCount === 0, 'killed reader freed');
  });

  it('removeMount ends a playing reader, then DESCRIBE answers 404', async () => {
    const reader = procs.run('ffmpeg', ['-nostdin', '-v', 'error', '-rtsp_transport', 'tcp', '-i', url('gone'), '-f', 'null', '-'], 30_000);
    await waitFor(() => gone.readerCount === 1, 'reader playing', 20_000);
    server.removeMount('gone');
    const r = await reader;
    expect(r.timedOut).toBe(false);
    const probe = await ffprobe(url('gone'));
    expect(probe.code).not.toBe(0);
    expect(probe.stderr).toMatch(/404/);
  });
});

describe('authentication with FFmpeg', () => {
  it('refuses without credentials (401)', async () => {
    const r = await ffprobe(url('secure'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/401/);
  });

  it.each(['secure', 'basic'])('accepts the right credentials on %s (Digest offered / Basic only)', async (path) => {
    const r = await ffprobe(url(path, `admin:${PASSWORD}@`), 'tcp', ['-show_entries', 'stream=codec_name']);
    expect(streamInfo(r).codec_name).toBe('h264');
  });

  it('refuses wrong credentials (401)', async () => {
    const r = await ffprobe(url('basic', 'admin:wrong@'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/401/);
  });

  it('never logs the password', () => {
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.join('\n')).not.toContain(PASSWORD);
  });
});

describe.skipIf(!has('gst-launch-1.0'))('GStreamer', () => {
  const gst = (args: string[]): Promise<RunResult> =>
    procs.run('gst-launch-1.0', ['-q', 'rtspsrc', `location=${url('live')}`, ...args, '!', 'rtph264depay', '!', 'h264parse', '!', 'fakesink', 'num-buffers=50'], 30_000);

  it.each(['tcp', 'udp'])('rtspsrc protocols=%s plays 50 buffers', async (proto) => {
    const r = await gst([`protocols=${proto}`, 'latency=0']);
    expect(r.code, `${r.stderr}${r.stdout}\nserver log:\n${logLines.slice(-15).join('\n')}`).toBe(0);
  });

  // Stopping a pipeline made rtspsrc cancel its own PAUSE; when the cancel came before the write,
  // GStreamer reported "Could not send message. (Received end-of-file)" and exited 1 (3 times in 6 in
  // a probe), though the server had closed nothing. With PAUSE not advertised it sends TEARDOWN alone
  // (handler.ts, PUBLIC_METHODS). One CPU for gst-launch makes the race far likelier, so that a
  // server that advertises PAUSE fails here.
  it('rtspsrc over TCP stopping after 40 buffers exits cleanly 6 times in 6, with TEARDOWN alone', async () => {
    const pin = has('taskset') ? ['taskset', '-c', '0'] : [];
    for (let i = 0; i < 6; i++) {
      const from = logLines.length;
      const args = ['-q', 'rtspsrc', `location=${url('live')}`, 'protocols=tcp', 'latency=0', '!', 'rtph264depay', '!', 'h264parse', '!', 'fakesink', 'num-buffers=40'];
      const r = await procs.run(pin[0] ?? 'gst-launch-1.0', [...pin.slice(1), ...(pin.length ? ['gst-launch-1.0'] : []), ...args], 30_000);
      const requests = logLines
        .slice(from)
        .map((l) => JSON.parse(l) as { msg?: string; method?: string; status?: number })
        .filter((l) => l.msg === 'rtsp request');
      const detail = `run ${i + 1}: ${r.stderr}${r.stdout}\nrequests: ${requests.map((q) => `${q.method} ${q.status}`).join(', ')}`;
      expect(r.code, detail).toBe(0);
      expect(`${r.stderr}${r.stdout}`, detail).not.toMatch(/Could not send message|ERROR/);
      expect(requests.map((q) => q.method), detail).not.toContain('PAUSE');
      expect(requests.at(-1), detail).toMatchObject({ method: 'TEARDOWN', status: 200 });
    }
    await waitFor(() => live.readerCount === 0, 'readers freed');
  });
});

describe.skipIf(!has('tshark'))('RTP on the wire (tshark)', () => {
  it('UDP stream has no loss or sequence errors and carries sender reports', async (ctx) => {
    const file = join(tmp, 'cap.pcapng');
    const { rtp, rtcp } = server.udpPorts;
    const cap = procs.spawn('tshark', ['-i', 'lo', '-f', `udp portrange ${rtp}-${rtcp}`, '-a', 'duration:20', '-w', file]);
    let capErr = '';
    cap.stderr?.on('data', (d: Buffer) => (capErr += d.toString()));
    const exited = new Promise((r) => cap.once('exit', r));
    await Promise.race([waitFor(() => /Capture started|Capturing on/.test(capErr), 'capture start', 15_000), exited]);
    if (cap.exitCode !== null || /permission|denied/i.test(capErr)) {
      ctx.skip(`tshark cannot capture on lo here: ${capErr.trim().split('\n').at(-1)}`);
    }
    const r = await decode(url('live'), 'udp', ['-t', '2']);
    expect(r.code, r.stderr).toBe(0);
    await new Promise((res) => setTimeout(res, 300));
    cap.kill('SIGINT');
    await exited;
    const streams = await procs.run('tshark', ['-r', file, '-o', 'rtp.heuristic_rtp:TRUE', '-q', '-z', 'rtp,streams']);
    expect(streams.code, streams.stderr).toBe(0);
    const rows = streams.stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((t) => t[3] === String(rtp));
    expect(rows, streams.stdout).toHaveLength(1);
    const [row] = rows as string[][];
    // start end srcIP srcPort dstIP dstPort SSRC payload pkts lost (lost%) ... problems?
    expect(Number(row![8])).toBeGreaterThan(50);
    expect(row![9], streams.stdout).toBe('0');
    expect(row!.at(-1), streams.stdout).not.toBe('X');
    const srs = await procs.run('tshark', ['-r', file, '-o', 'rtp.heuristic_rtp:TRUE', '-Y', `rtcp.pt == 200 && udp.srcport == ${rtcp}`, '-T', 'fields', '-e', 'rtcp.senderssrc']);
    const ssrcs = srs.stdout.trim().split('\n').filter(Boolean);
    expect(ssrcs.length).toBeGreaterThanOrEqual(1);
    expect(Number(ssrcs[0])).toBe(Number(row![6]));
  });
});

describe('H.265', () => {
  let hevc: RtspMount;
  beforeAll(async () => {
    hevc = server.createMount('hevc', { codec: 'h265' });
    const enc = startEncoder(encoders, hevc, 'h265', '320x240');
    await waitFor(() => enc.frames > 5, 'x265 output', 30_000);
  });

  it('ffprobe reads it over TCP', async () => {
    const r = await ffprobe(url('hevc'), 'tcp', ['-show_entries', 'stream=codec_name,width,height']);
    expect(streamInfo(r)).toEqual({ codec_name: 'hevc', width: 320, height: 240 });
  });

  it('ffmpeg decodes it over UDP without errors', async () => {
    const r = await decode(url('hevc'), 'udp', ['-frames:v', '40']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim()).toBe('');
    expect(framesOf(r)).toBe(40);
  });
});

describe('a mount served elsewhere: 302 to it', () => {
  let front: RtspServer;
  const asked: string[] = [];
  beforeAll(async () => {
    // A second server with no mounts, as another engine is: it knows where `live` is served now.
    front = new RtspServer({
      host: '127.0.0.1',
      port: 0,
      locate: async (path) => {
        asked.push(path);
        return path === 'live' ? url('live') : undefined;
      },
    });
    await front.listen();
  });
  afterAll(() => front?.close());
  const frontUrl = (path: string) => `rtsp://127.0.0.1:${front.port}/${path}`;

  it('ffprobe given the front server’s URL follows the redirect and reads the stream', async () => {
    const r = await ffprobe(frontUrl('live'), 'tcp', ['-show_entries', 'stream=codec_name,width,height']);
    expect(streamInfo(r)).toEqual({ codec_name: 'h264', width: 640, height: 360 });
    expect(asked).toContain('live');
  });

  it.skipIf(!has('gst-launch-1.0'))('GStreamer’s rtspsrc follows it too', async () => {
    const r = await procs.run('gst-launch-1.0', ['-q', 'rtspsrc', `location=${frontUrl('live')}`, 'protocols=tcp', 'latency=0', '!', 'rtph264depay', '!', 'h264parse', '!', 'fakesink', 'num-buffers=30'], 30_000);
    expect(r.code, `${r.stderr}${r.stdout}`).toBe(0);
  });

  it('a mount found nowhere is still a 404; a locator that fails is a 404 too, never a hang', async () => {
    const r = await ffprobe(frontUrl('nowhere'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/404/);
    front.setLocator(async () => {
      throw new Error('database away');
    });
    const f = await ffprobe(frontUrl('live'));
    expect(f.stderr).toMatch(/404/);
  });
});
