import { createServer } from 'node:net';
import { createInspectorServer } from '@statelyai/inspect/server';
import type { InspectionEvent, Observer } from 'xstate';
import { z } from 'zod';
import { INSPECT_ENV, machineInspection } from '../io/stately/inspector.js';
import { UsageError, help, portSchema } from './args.js';
import { defineCommand } from './command.js';
import { waitForShutdownSignal } from './signals.js';
import { createLogger } from '../log.js';

const schema = z.object({ port: portSchema.default(8080).meta(help("the bridge's port (HTTP for the browser, WebSocket for the machines)", 'PORT')) });

export const inspectCommandSpec = defineCommand({
  name: 'inspect',
  summary: "Stately's inspector bridge: watch the engines' and runs' state machines live in a browser",
  description:
    "Starts Stately's inspector bridge (@statelyai/inspect): open http://localhost:PORT in a browser, then start engines " +
    `or runs with ${INSPECT_ENV}=ws://localhost:PORT: the poller's and every run's machine appear live in Stately's ` +
    'inspector (states, events, contexts; passwords redacted). The bridge listens on every interface of this machine; ' +
    'from elsewhere, forward the port (ssh -L, kubectl port-forward). The page embeds https://stately.ai/inspect, so ' +
    'the browser needs to reach stately.ai.',
  options: schema,
  environment: ['SIE_LOG_LEVEL', 'SIE_LOG_FORMAT'],
  examples: ['sie inspect --port 8080 &', `${INSPECT_ENV}=ws://localhost:8080 sie run clip.mp4 --model m.onnx --labels l.txt`],
  run: (o) => inspectCommand(o),
});

async function inspectCommand(o: z.output<typeof schema>): Promise<number> {
  // The bridge does not report a port it cannot listen on (its error would end the process with a
  // stack): try the port first, so a busy one is a plain message.
  await portIsFree(o.port);
  const server = createInspectorServer({ port: o.port, autoOpen: false });
  process.stdout.write(`inspect: open http://localhost:${o.port} in a browser; start engines with ${INSPECT_ENV}=ws://localhost:${o.port}\n`);
  await waitForShutdownSignal(createLogger({ cmd: 'inspect' }), 'sie inspect');
  server.stop();
  return 0;
}

function portIsFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(new UsageError(`--port ${port}: ${err.code === 'EADDRINUSE' ? 'in use' : err.message}`)));
    probe.listen(port, () => probe.close(() => resolve()));
  });
}

/** SIE_INSPECT checked at start (a UsageError naming it, exit 2), then the inspector's observer, if set. */
export function inspectOption(env: NodeJS.ProcessEnv = process.env): Observer<InspectionEvent> | undefined {
  try {
    return machineInspection(env);
  } catch (err) {
    throw new UsageError(`environment: ${(err as Error).message}`);
  }
}
