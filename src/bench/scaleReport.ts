import type { ScaleResult, StatementTime } from './scale.js';
import { formatLoad } from './loadAverage.js';

/** One target of issue 18 (the full scale test on 2 cores) and whether this run met it. */
export interface ScaleTarget {
  name: string;
  goal: string;
  value: string;
  pass: boolean;
}

const s = (x: number) => `${x.toFixed(1)} s`;
const ms = (x: number) => `${x.toFixed(0)} ms`;

export function scaleTargets(r: ScaleResult): ScaleTarget[] {
  return [
    { name: 'claim latency p50 (single runs)', goal: '< 100 ms', value: ms(r.steady.claimMs.p50), pass: r.steady.claimMs.p50 < 100 },
    { name: 'claim latency p99 (single runs)', goal: '< 1 s', value: ms(r.steady.claimMs.p99), pass: r.steady.claimMs.p99 < 1000 },
    { name: `${r.burst.runs} runs inserted at once, all claimed`, goal: '< 30 s', value: s(r.burst.allClaimedS), pass: r.burst.allClaimedS < 30 },
    { name: 'SIGKILL: every run running elsewhere', goal: `≤ TTL + poll (${r.kill.boundS} s)`, value: s(r.kill.recoveryMaxS), pass: r.kill.recoveryMaxS <= r.kill.boundS && r.kill.lost === 0 },
    { name: 'SIGTERM drain: every run running again', goal: '< 20 s, 0 lost', value: `${s(r.drain.recoveryMaxS)}, ${r.drain.lost} lost`, pass: r.drain.recoveryMaxS < 20 && r.drain.lost === 0 },
    { name: "paused engine: writes accepted after the takeover", goal: '0', value: `${r.pause.acceptedAfterTakeover} (${r.pause.fencedWrites} refused)`, pass: r.pause.acceptedAfterTakeover === 0 && r.pause.leaseLostSeen },
    { name: 'run epochs with two holders', goal: '0', value: String(r.audit.runEpochsWithTwoHolders), pass: r.audit.runEpochsWithTwoHolders === 0 },
    { name: 'PostgreSQL CPU, steady', goal: '< 0.25 core', value: `${r.steady.pgCpuCores.toFixed(3)} core`, pass: r.steady.pgCpuCores < 0.25 },
    { name: 'connections per engine', goal: '≤ 3', value: String(r.steady.connections.maxPerEngine), pass: r.steady.connections.maxPerEngine <= 3 },
    { name: 'PostgreSQL restart: runs lost', goal: '0', value: String(r.postgresRestart.lost), pass: r.postgresRestart.lost === 0 && r.audit.runsNotRunning === 0 },
  ];
}

export function formatScale(r: ScaleResult): string {
  const o = r.options;
  const lines = [
    `scale test: ${o.engines} dry engines in ${o.processes} processes, ${o.runs} runs, lease ${o.leaseTtlS} s, poll ${o.pollIntervalS} s, counters every ${o.writeEveryS} s; ${r.capacityUnitsPerEngine} cost units per engine`,
    `  burst        all claimed ${s(r.burst.allClaimedS)}, all running ${s(r.burst.allRunningS)}; claim p50/p90/p99 ${ms(r.burst.claimMs.p50)}/${ms(r.burst.claimMs.p90)}/${ms(r.burst.claimMs.p99)}; PostgreSQL ${r.burst.pgCpuCores.toFixed(2)} core`,
    `  steady       ${r.steady.seconds} s: claim p50/p90/p99 ${ms(r.steady.claimMs.p50)}/${ms(r.steady.claimMs.p90)}/${ms(r.steady.claimMs.p99)} (${r.steady.claimMs.samples} runs); PostgreSQL ${r.steady.pgCpuCores.toFixed(3)} core; ${r.steady.connections.total} engine connections, ${r.steady.connections.maxPerEngine} per engine at most`,
    `  PostgreSQL   steady, by process: ${Object.entries(r.steady.pgCpuCoresBy).filter(([, c]) => c >= 0.001).map(([k, c]) => `${k} ${c.toFixed(3)}`).join(', ')}`,
    `  dead tuples  ${Object.entries(r.steady.deadTuples).map(([t, v]) => `${t} ${v.dead} (live ${v.live})`).join(', ')}`,
    `  SIGKILL      ${r.kill.processes} processes, ${r.kill.engines} engines, ${r.kill.runs} runs: running elsewhere after ${s(r.kill.recoveryMaxS)} (median ${s(r.kill.recoveryP50S)})`,
    `  drain        ${r.drain.engines} engines, ${r.drain.runs} runs: exited after ${s(r.drain.exitS)}, running again after ${s(r.drain.recoveryMaxS)}, ${r.drain.lost} lost`,
    `  pause        ${r.pause.runs} runs taken over after ${s(r.pause.takenOverS)}; woken after ${s(r.pause.pausedS)}: ${r.pause.fencedWrites} writes refused, ${r.pause.acceptedAfterTakeover} accepted`,
    `  restart      PostgreSQL down ${s(r.postgresRestart.downS)}; every lease renewed ${s(r.postgresRestart.leasesRenewedS)} after; ${r.postgresRestart.reclaimedRuns} runs reclaimed; a new run claimed in ${ms(r.postgresRestart.claimAfterMs)}`,
    `  end          ${r.end.releasedToPending} runs released to pending, ${r.end.enginesLeft} engine rows left, ${r.end.processesExitedNonZero} processes exited non-zero`,
    '  top statements, steady (pg_stat_statements):',
    ...r.steady.topStatements.slice(0, 5).map(statementLine),
    `  busiest statements, steady (${r.steady.statementsPerS.toFixed(0)} a second in all):`,
    ...r.steady.busiestStatements.slice(0, 5).map(statementLine),
    '',
    'targets:',
    ...scaleTargets(r).map((t) => `  ${t.pass ? 'PASS' : 'MISS'}  ${t.name.padEnd(44)} ${t.value.padEnd(22)} (${t.goal})`),
    `load average ${formatLoad(r.loadAtStart)} at the start, ${formatLoad(r.load)} at the end; an idle SELECT 1 cost ${r.host.select1BackendUs.toFixed(1)} µs of a backend's CPU (the host's speed); ${s(r.seconds)} in all`,
  ];
  return lines.join('\n');
}

function statementLine(t: StatementTime): string {
  return `    ${String(t.totalMs).padStart(6)} ms  ${String(t.calls).padStart(6)} calls  ${t.meanMs.toFixed(3)} ms  ${t.query.slice(0, 70)}`;
}
