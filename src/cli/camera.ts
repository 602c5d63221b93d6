import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { RtspServer } from '../io/rtsp/index.js';
import { CameraSimulator } from '../tools/camera/simulator.js';
import { createLogger } from '../log.js';
import { UsageError, parseOptions, portSchema, sizeSchema } from './args.js';
import { mountSchema } from '../config/mount.js';

export const cameraUsage = `sie camera FILE [--port 8554] [--host 0.0.0.0] [--mount cam] [--codec h264|h265] [--size WxH]
           [--keyint 2] [--user U [--password-file F | --password P]] [--copy]
  Re-encodes FILE in real time, looping forever, and serves it as an RTSP camera. With --user, clients
  must authenticate; the password comes from --password-file F (its first line), else SIE_CAMERA_PASSWORD,
  else --password P (visible to every local user on the process list: for throwaway tests only).
  --copy serves FILE's video bitstream unchanged instead (its codec must be --codec; --size and --keyint
  do not apply): for streams with broken packets or a resolution change, which a re-encode would repair.`;

const schema = z
  .object({
    file: z.string().min(1).refine(existsSync, 'file not found'),
    port: portSchema.default(8554),
    host: z.string().default('0.0.0.0'),
    mount: mountSchema.default('cam'),
    codec: z.enum(['h264', 'h265']).default('h264'),
    size: sizeSchema.optional(),
    keyint: z.coerce.number().positive().max(30).default(2),
    user: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    'password-file': z.string().min(1).optional(),
    copy: z.boolean().default(false),
  })
  .refine((o) => o.password === undefined || o['password-file'] === undefined, {
    message: 'give one of --password and --password-file',
    path: ['password'],
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

export async function cameraCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      mount: { type: 'string' },
      codec: { type: 'string' },
      size: { type: 'string' },
      keyint: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      'password-file': { type: 'string' },
      copy: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`expected one FILE\n${cameraUsage}`);
  const o = parseOptions(schema, { ...values, file: positionals[0] });
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
