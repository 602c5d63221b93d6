import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { RtspServer } from '../io/rtsp/index.js';
import { CameraSimulator } from '../tools/camera/simulator.js';
import { createLogger } from '../log.js';
import { UsageError, help, portSchema, sizeSchema, type Positional } from './args.js';
import { defineCommand } from './command.js';
import { mountSchema } from '../config/mount.js';

const positionals: readonly Positional[] = [{ key: 'file', name: 'FILE', description: 'the video file to serve as a camera (looped forever)' }];

const schema = z
  .object({
    file: z.string().min(1).refine(existsSync, 'file not found'),
    port: portSchema.default(8554).meta(help("the camera's RTSP port; 0: any free port", 'PORT')),
    host: z.string().default('0.0.0.0').meta(help('address it listens on', 'HOST')),
    mount: mountSchema.default('cam').meta(help("the stream's path: rtsp://HOST:PORT/MOUNT", 'MOUNT')),
    codec: z.enum(['h264', 'h265']).default('h264').meta(help('the codec served (with --copy: FILE\'s own, which must be this one)', 'CODEC')),
    size: sizeSchema.optional().meta(help('re-encode at WIDTHxHEIGHT, e.g. 1280x720 (not with --copy)', 'WxH', "FILE's own")),
    keyint: z.coerce.number().positive().max(30).default(2).meta(help('seconds between keyframes (not with --copy)', 'S')),
    user: z.string().min(1).optional().meta(help('clients must authenticate as this user (Basic or Digest)', 'USER', 'no authentication')),
    password: z
      .string()
      .min(1)
      .optional()
      .meta(help('the password, on the command line: visible to every local user on the process list, for throwaway tests only', 'P')),
    'password-file': z.string().min(1).optional().meta(help('read the password from the first line of FILE (kept off the process list)', 'FILE')),
    copy: z
      .boolean()
      .default(false)
      .meta(help("serve FILE's video bitstream unchanged instead of re-encoding it: for streams with broken packets or a resolution change, which a re-encode would repair")),
  })
  .refine((o) => o.password === undefined || o['password-file'] === undefined, {
    message: 'give one of --password and --password-file',
    path: ['password'],
  });

export const cameraCommandSpec = defineCommand({
  name: 'camera',
  summary: 'a simulated RTSP camera: a video file re-encoded in real time, looping forever',
  description:
    'Re-encodes FILE in real time, looping forever, and serves it as an RTSP camera on rtsp://HOST:PORT/MOUNT (tests, ' +
    'demos, benchmarks). With --user, clients must authenticate; the password comes from --password-file, else ' +
    'SIE_CAMERA_PASSWORD, else --password. Ctrl-C or SIGTERM stops it.',
  arguments: positionals,
  options: schema,
  environment: ['SIE_CAMERA_PASSWORD', 'SIE_LOG_LEVEL', 'SIE_LOG_FORMAT'],
  examples: [
    '# the plaza clip on rtsp://127.0.0.1:8555/cam',
    'sie camera ../shared/media/plaza-pedestrians.mp4 --port 8555',
    '# with a password (Digest or Basic), kept off the process list',
    'SIE_CAMERA_PASSWORD=secret sie camera clip.mp4 --user admin --mount stream1',
  ],
  run: async (o) => {
    await cameraCommand(o);
    return 0;
  },
});

/**
 * The camera's password: a file or the environment keep it off the process list (`ps`, /proc/PID/cmdline
 * are readable by every local user); --password stays for quick tests. The file's first line is the
 * password (a trailing newline, as `echo` writes it, is not part of it).
 */
function cameraPassword(o: { password?: string; 'password-file'?: string }, env = process.env): string | undefined {
  if (o['password-file'] !== undefined) {
    let text: string;
    try {
      text = readFileSync(o['password-file'], 'utf8');
    } catch (err) {
      throw new UsageError(`--password-file: cannot read ${o['password-file']} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const first = text.split(/\r?\n/)[0]!;
    if (!first) throw new UsageError('--password-file: the first line is empty');
    return first;
  }
  return o.password ?? (env.SIE_CAMERA_PASSWORD || undefined);
}

async function cameraCommand(o: z.output<typeof schema>): Promise<void> {
  const password = cameraPassword(o);
  if ((o.user === undefined) !== (password === undefined)) {
    throw new UsageError('--password: give --user together with --password-file, SIE_CAMERA_PASSWORD or --password');
  }
  const logger = createLogger({ cmd: 'camera' });
  const server = new RtspServer({ host: o.host, port: o.port, logger });
  await server.listen();
  const auth = o.user && password ? { user: o.user, password } : undefined;
  const mount = server.createMount(o.mount, { codec: o.codec, auth });
  const camera = new CameraSimulator({ file: o.file, codec: o.codec, size: o.size, keyframeIntervalS: o.keyint, copy: o.copy }, mount, logger);
  await camera.start();
  const userPart = o.user ? `${o.user}:***@` : '';
  process.stdout.write(`camera: rtsp://${userPart}127.0.0.1:${server.port}/${o.mount}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await camera.stop();
  await server.close();
}
