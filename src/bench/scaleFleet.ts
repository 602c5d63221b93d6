import { Child, SIE_MAIN } from './children.js';

/**
 * The scale test's engines: `sie engine --dry --engines k` processes, each holding k engines. Process 0
 * holds one engine only: it is the one paused with SIGSTOP (a whole process stops, and "one engine paused
 * past its lease" must mean one). The other engines are spread evenly over the other processes.
 */
export interface FleetOptions {
  databaseUrl: string;
  dataDir: string;
  engines: number;
  processes: number;
  capacityUnits: number;
  leaseTtlS: number;
  pollIntervalS: number;
  writeEveryS: number;
}

/** What one dry engine did, from its last line (`engine: <id> dry {...}`, src/cli/engine.ts). */
export interface DrySummary {
  claims: number;
  held: number;
  writes: number;
  fencedWrites: number;
}

export class FleetProcess {
  readonly engineIds: string[] = [];
  readonly summaries = new Map<string, DrySummary>();
  leaseLost = 0;

  constructor(
    readonly index: number,
    readonly engines: number,
    readonly child: Child,
  ) {}

  onLine(line: string): void {
    const started = /^engine: (\S+) database=/.exec(line);
    if (started) this.engineIds.push(started[1]!);
    const summary = /^engine: (\S+) dry (\{.*\})$/.exec(line);
    if (summary) this.summaries.set(summary[1]!, JSON.parse(summary[2]!) as DrySummary);
    if (line.includes('engine lease lost')) this.leaseLost++;
  }
}

/** How many engines each process holds: [1, ...the rest spread evenly]. */
export function fleetLayout(engines: number, processes: number): number[] {
  if (processes < 2 || engines < processes) throw new Error(`a fleet needs at least 2 processes and one engine each (got ${engines} engines in ${processes} processes)`);
  const rest = engines - 1;
  const others = processes - 1;
  return [1, ...Array.from({ length: others }, (_, i) => Math.floor(rest / others) + (i < rest % others ? 1 : 0))];
}

export async function startFleet(o: FleetOptions, onProcessExit: (p: FleetProcess, code: number | null) => void): Promise<FleetProcess[]> {
  const layout = fleetLayout(o.engines, o.processes);
  const fleet = layout.map((engines, index) => {
    const args = [
      SIE_MAIN,
      'engine',
      '--dry',
      '--engines', String(engines),
      '--capacity', String(o.capacityUnits),
      '--max-runs', '1000',
      '--lease-ttl', String(o.leaseTtlS),
      '--poll-interval', String(o.pollIntervalS),
      '--dry-write-every', String(o.writeEveryS),
      '--rtsp-host', '127.0.0.1',
      '--rtsp-port', '0',
    ];
    // The child's lines arrive once it runs, after `proc` below exists.
    const at: { proc?: FleetProcess } = {};
    const child = new Child(process.execPath, args, {
      // warn: one line per claimed run (info) would be 10,000 lines to write and read at the burst.
      env: { SIE_DATABASE_URL: o.databaseUrl, SIE_DATA_DIR: o.dataDir, SIE_LOG_LEVEL: 'warn', SIE_LOG_FORMAT: 'json' },
      onLine: (line) => at.proc?.onLine(line),
      keep: 200,
    });
    const proc = new FleetProcess(index, engines, child);
    at.proc = proc;
    void child.exited.then(({ code }) => onProcessExit(proc, code));
    return proc;
  });
  // Every engine registered (its line printed after its first claim round started).
  await Promise.all(fleet.map((p) => p.child.waitForLine(new RegExp(`^engine: \\S+ database=`), 120_000, `dry engine process ${p.index}`).then(() => waitForEngines(p))));
  return fleet;
}

async function waitForEngines(p: FleetProcess): Promise<void> {
  const until = Date.now() + 120_000;
  while (p.engineIds.length < p.engines) {
    if (!p.child.alive) throw new Error(`dry engine process ${p.index} exited:\n${p.child.recent()}`);
    if (Date.now() > until) throw new Error(`dry engine process ${p.index}: ${p.engineIds.length} of ${p.engines} engines started\n${p.child.recent()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
