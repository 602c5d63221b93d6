// make demo's event printer: follows a run's Server-Sent Events (GET /v1/runs/{id}/events/stream) and prints
// one line per event as it happens. On a dropped connection it reconnects with Last-Event-ID, as a browser's
// EventSource does, so no event is printed twice or missed. Ends on SIGINT/SIGTERM (the demo stops it first).
//
//   node scripts/demo-events.js http://127.0.0.1:8000 RUN_ID
/* global AbortController, fetch, TextDecoder, setTimeout -- Node 20 has them all */
const [api, runId] = process.argv.slice(2);
if (!api || !runId) {
  process.stderr.write('usage: node scripts/demo-events.js API_URL RUN_ID\n');
  process.exit(2);
}

const controller = new AbortController();
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => controller.abort());

/** "14:03:07  walkway        cross in   person #12  (in: 4)" — the wall time the frame was seen, the rule, what. */
function describe(e) {
  const time = new Date(e.time).toLocaleTimeString('en-GB', { hour12: false });
  const what = e.type === 'cross' ? `cross ${e.direction}` : e.type;
  const who = [e.class, e.track_id === null ? undefined : `#${e.track_id}`].filter(Boolean).join(' ');
  const notes = [];
  if (e.type === 'cross' && typeof e.extra.count === 'number') notes.push(`${e.direction} so far: ${e.extra.count}`);
  if (typeof e.extra.seconds === 'number') notes.push(`${e.extra.seconds} s in the zone`);
  return `  ${time}  ${e.rule_id.padEnd(14)} ${what.padEnd(10)} ${who.padEnd(12)} ${notes.length ? `(${notes.join(', ')})` : ''}`.trimEnd();
}

let lastId;
async function follow() {
  const headers = { accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) };
  const res = await fetch(`${api}/v1/runs/${runId}/events/stream`, { headers, signal: controller.signal });
  if (!res.ok) throw new Error(`events stream: HTTP ${res.status}`);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true });
    // Messages end with a blank line; "id:" and "data:" lines make one up (comments, ":", are heartbeats).
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const message = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let data = '';
      for (const line of message.split('\n')) {
        if (line.startsWith('id:')) lastId = line.slice(3).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      if (data) process.stdout.write(`${describe(JSON.parse(data))}\n`);
    }
  }
}

while (!controller.signal.aborted) {
  try {
    await follow();
  } catch (err) {
    if (controller.signal.aborted) break;
    process.stderr.write(`  (events stream: ${err instanceof Error ? err.message : String(err)}; reconnecting)\n`);
  }
  if (!controller.signal.aborted) await new Promise((r) => setTimeout(r, 1000));
}
