import { createHash } from 'node:crypto';

/*
 * The live view page: one HTML document, its CSS and JS inline, no framework and nothing fetched
 * from elsewhere (it must work on a machine with no network). It asks `events` (relative to
 * `<base>/`) for a snapshot and then a stream of batches, and renders:
 *
 *   #count-<state>                          counts per state (`disposed`: total so far)
 *   #sessions tr[data-session-id][data-state]   one row per session, cells [data-field=…]
 *   #timeline li[data-session-id][data-to]      recent transitions, newest first
 *
 * Everything the server sends is written with `textContent`: the client name comes from the
 * client's own `initialize` and must never be parsed as HTML.
 */

const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --fg: #1d2330; --muted: #6b7385; --card: #fff;
  --line: #dfe3ea; --created: #8a63d2; --active: #1f9d55; --idle: #c68a00; --expired: #d14343; --disposed: #7d8597; }
@media (prefers-color-scheme: dark) { :root { --bg: #14171c; --fg: #e4e7ec; --muted: #9aa3b2; --card: #1d2128; --line: #2e343e; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: baseline; gap: 1rem; padding: 1rem 1.5rem; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.15rem; margin: 0; }
h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 .5rem; }
#status { font-size: .8rem; padding: .1rem .5rem; border-radius: 1rem; background: var(--line); }
#status[data-status="live"] { background: var(--active); color: #fff; }
#status[data-status="closed"] { background: var(--expired); color: #fff; }
#phase { color: var(--muted); font-size: .85rem; }
main { padding: 1rem 1.5rem; display: grid; gap: 1.25rem; grid-template-columns: minmax(0, 3fr) minmax(16rem, 2fr); }
#counts { grid-column: 1 / -1; display: grid; gap: .75rem; grid-template-columns: repeat(auto-fill, minmax(7.25rem, 1fr)); margin: 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .6rem .8rem; }
.card dt { font-size: .75rem; color: var(--muted); }
.card dd { margin: 0; font-size: 1.5rem; font-variant-numeric: tabular-nums; }
.card[data-state] { border-left: 4px solid var(--state-color); }
section { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .8rem; min-width: 0; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-size: .75rem; color: var(--muted); font-weight: 600; }
td[data-field="id"] { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .8rem; }
tr[data-state="expired"], tr[data-state="disposed"] { opacity: .55; }
.badge { display: inline-block; min-width: 4.5rem; text-align: center; padding: 0 .4rem; border-radius: 1rem;
  color: #fff; background: var(--state-color, var(--muted)); font-size: .8rem; }
[data-state="created"] { --state-color: var(--created); } [data-state="active"] { --state-color: var(--active); }
[data-state="idle"] { --state-color: var(--idle); } [data-state="expired"] { --state-color: var(--expired); }
[data-state="disposed"] { --state-color: var(--disposed); }
#empty { color: var(--muted); padding: .5rem; }
#timeline { list-style: none; margin: 0; padding: 0; max-height: 70vh; overflow: auto; font-size: .85rem; }
#timeline li { display: flex; gap: .5rem; align-items: baseline; padding: .2rem 0; border-bottom: 1px solid var(--line); }
#timeline time, #timeline .sid { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .75rem; color: var(--muted); }
#timeline .reason { color: var(--muted); }
#note { color: var(--muted); font-size: .8rem; }
@media (max-width: 800px) { main { grid-template-columns: 1fr; } }
`;

const SCRIPT = `
(() => {
  'use strict';
  const STATES = ['created', 'active', 'idle', 'expired'];
  const LIVE = new Set(['created', 'active', 'idle']);
  const MAX_TIMELINE = 200;
  const ENDED_ROW_MS = 30000;
  const MAX_ENDED_ROWS = 100;
  const byId = (id) => document.getElementById(id);
  const tbody = byId('sessions').tBodies[0];
  const timeline = byId('timeline');
  /** id -> { tr, session, endedAt } */
  const rows = new Map();
  let offset = 0;
  let seq = 0;
  const serverNow = () => Date.now() + offset;

  function duration(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + 's';
    const m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + String(s % 60).padStart(2, '0') + 's';
    return Math.floor(m / 60) + 'h ' + String(m % 60).padStart(2, '0') + 'm';
  }
  function clockTime(at) {
    const date = new Date(at);
    return date.toLocaleTimeString([], { hour12: false }) + '.' + String(date.getMilliseconds()).padStart(3, '0');
  }
  const shortId = (id) => id.slice(0, 8);

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function field(row, name) { return row.tr.querySelector('[data-field="' + name + '"]'); }

  function setState(row, state) {
    row.session.state = state;
    row.tr.dataset.state = state;
    const badge = field(row, 'state').firstChild;
    badge.textContent = state;
    badge.dataset.state = state;
  }

  function renderTimes(row) {
    const now = row.endedAt ?? serverNow();
    field(row, 'age').textContent = duration(now - row.session.createdAt);
    field(row, 'idle').textContent = row.session.state === 'idle' ? duration(now - row.session.lastActivityAt) : '';
    field(row, 'requests').textContent = String(row.session.requests);
  }

  function addRow(session) {
    const tr = el('tr', { id: 'session-' + session.id, 'data-session-id': session.id, 'data-state': session.state });
    const idCell = el('td', { 'data-field': 'id', title: session.id }, shortId(session.id));
    const stateCell = el('td', { 'data-field': 'state' });
    stateCell.append(el('span', { class: 'badge' }));
    tr.append(idCell, stateCell, el('td', { 'data-field': 'age' }), el('td', { 'data-field': 'idle' }),
      el('td', { 'data-field': 'requests' }), el('td', { 'data-field': 'client' }, session.client ?? ''));
    tbody.append(tr);
    const row = { tr, session: { ...session }, endedAt: undefined };
    rows.set(session.id, row);
    setState(row, session.state);
    renderTimes(row);
    return row;
  }

  function removeRow(id) {
    const row = rows.get(id);
    if (!row) return;
    row.tr.remove();
    rows.delete(id);
  }

  function pruneEnded() {
    const ended = [...rows.values()].filter((row) => row.endedAt !== undefined);
    for (const row of ended.slice(0, Math.max(0, ended.length - MAX_ENDED_ROWS))) removeRow(row.session.id);
  }

  function refreshEmpty() { byId('empty').hidden = rows.size > 0; }

  function applyStats(stats, total) {
    for (const state of STATES) byId('count-' + state).textContent = String(stats.byState[state]);
    byId('count-disposed').textContent = String(stats.totals.disposed);
    byId('capacity').textContent = stats.activeSessions + ' / ' + stats.maxSessions;
    byId('in-flight').textContent = String(stats.requestsInFlight);
    byId('admitted').textContent = String(stats.totals.admitted);
    byId('rejected').textContent = String(stats.totals.rejected);
    byId('phase').textContent = 'supervisor ' + stats.phase;
    if (total !== undefined) {
      const listed = [...rows.values()].filter((row) => row.endedAt === undefined).length;
      byId('note').textContent = total > listed ? 'Showing ' + listed + ' of ' + total + ' live sessions.' : '';
    }
  }

  function addTimeline(event) {
    const li = el('li', event.type === 'rejected'
      ? { 'data-type': 'rejected', 'data-code': event.code }
      : { 'data-session-id': event.sessionId, 'data-from': event.from ?? '', 'data-to': event.to });
    li.append(el('time', {}, clockTime(event.at)));
    if (event.type === 'rejected') {
      li.append(el('span', {}, 'admission refused'), el('span', { class: 'reason' }, event.code));
    } else {
      li.append(el('span', { class: 'sid', title: event.sessionId }, shortId(event.sessionId)));
      if (event.from) li.append(el('span', { class: 'badge', 'data-state': event.from }, event.from), el('span', {}, '→'));
      li.append(el('span', { class: 'badge', 'data-state': event.to }, event.to));
      if (event.reason && event.to === 'expired') li.append(el('span', { class: 'reason' }, event.reason));
    }
    timeline.prepend(li);
    while (timeline.children.length > MAX_TIMELINE) timeline.lastElementChild.remove();
  }

  function applyEvent(event) {
    if (event.seq <= seq) return;
    seq = event.seq;
    addTimeline(event);
    if (event.type === 'rejected') return;
    let row = rows.get(event.sessionId);
    if (!row) {
      if (!LIVE.has(event.to)) return;
      row = addRow({ id: event.sessionId, state: event.to, createdAt: event.createdAt,
        lastActivityAt: event.lastActivityAt, requests: event.requests, client: event.client });
    }
    row.session.lastActivityAt = event.lastActivityAt;
    row.session.requests = event.requests;
    setState(row, event.to);
    if (!LIVE.has(event.to) && row.endedAt === undefined) row.endedAt = event.at;
    if (event.to === 'disposed') setTimeout(() => { removeRow(event.sessionId); refreshEmpty(); }, ENDED_ROW_MS);
    renderTimes(row);
  }

  function applySnapshot(snapshot) {
    offset = snapshot.now - Date.now();
    seq = snapshot.seq;
    const listed = new Set(snapshot.sessions.map((session) => session.id));
    // Rows of sessions that ended while we were not listening would stay live forever.
    for (const row of [...rows.values()]) {
      if (row.endedAt === undefined && !listed.has(row.session.id)) removeRow(row.session.id);
    }
    for (const session of snapshot.sessions) {
      const row = rows.get(session.id) ?? addRow(session);
      Object.assign(row.session, session);
      setState(row, session.state);
      renderTimes(row);
    }
    applyStats(snapshot.stats, snapshot.total);
    refreshEmpty();
  }

  function applyBatch(batch) {
    offset = batch.now - Date.now();
    for (const event of batch.events) applyEvent(event);
    pruneEnded();
    applyStats(batch.stats);
    refreshEmpty();
  }

  function setStatus(status, text) {
    const node = byId('status');
    node.dataset.status = status;
    node.textContent = text;
  }

  const source = new EventSource('events');
  source.addEventListener('open', () => setStatus('live', 'live'));
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) setStatus('closed', 'disconnected (reload to retry)');
    else setStatus('connecting', 'reconnecting…');
  });
  source.addEventListener('snapshot', (message) => applySnapshot(JSON.parse(message.data)));
  source.addEventListener('batch', (message) => applyBatch(JSON.parse(message.data)));
  setInterval(() => { for (const row of rows.values()) renderTimes(row); }, 1000);
})();
`;

const countCard = (id: string, label: string, state?: string): string =>
  `<div class="card"${state ? ` data-state="${state}"` : ''}><dt>${label}</dt><dd id="${id}">–</dd></div>`;

/** The page, identical for every request (its base path is implied by its own URL). */
export const LIVE_VIEW_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MCP sessions — live</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>MCP sessions</h1>
  <span id="status" data-status="connecting">connecting…</span>
  <span id="phase"></span>
</header>
<main>
  <dl id="counts">
    ${countCard('count-created', 'created', 'created')}
    ${countCard('count-active', 'active', 'active')}
    ${countCard('count-idle', 'idle', 'idle')}
    ${countCard('count-expired', 'expired', 'expired')}
    ${countCard('count-disposed', 'disposed (total)', 'disposed')}
    ${countCard('capacity', 'live / capacity')}
    ${countCard('in-flight', 'requests in flight')}
    ${countCard('admitted', 'admitted')}
    ${countCard('rejected', 'rejected')}
  </dl>
  <section aria-labelledby="sessions-title">
    <h2 id="sessions-title">Sessions</h2>
    <table id="sessions">
      <thead><tr><th>id</th><th>state</th><th>age</th><th>idle for</th><th>requests</th><th>client</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="empty">No live sessions.</p>
    <p id="note"></p>
  </section>
  <section aria-labelledby="timeline-title">
    <h2 id="timeline-title">Timeline</h2>
    <ol id="timeline"></ol>
  </section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * Only the page's own inline script and style may run, and it may only connect back to where it
 * came from: even if some text escaped into the markup, nothing could load or run with it.
 */
export const LIVE_VIEW_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
