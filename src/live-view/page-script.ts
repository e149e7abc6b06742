import { CHARTS_SCRIPT } from './page-charts-script.js';
import { LANES_SCRIPT } from './page-lanes-script.js';
import { MODERN_SCRIPT } from './page-modern-script.js';

/*
 * The page's one inline script (its hash is in the CSP). It loads `charts.json` (the laid-out
 * machines), then opens `events` (a snapshot, then batches) and renders:
 *
 *   #capacity #in-flight #admitted #rejected #ended     cards
 *   #modern                                             the sessionless leg (page-modern-script.ts)
 *   the statecharts and the swimlanes                   (page-charts-script.ts, page-lanes-script.ts)
 *   #sessions tr[data-session-id][data-state]           one row per session, cells [data-field=…]
 *   #timeline li[data-session-id][data-to]              recent transitions, newest first
 *
 * Everything the server sends is written with `textContent`: the client name and principal come
 * from outside and must never be parsed as HTML. No state is known by name: colours follow the
 * order of the session machine's states, a session has ended once its events carry a reason, and
 * it is gone once it reaches a final state.
 */
const COMMON = `
  const PALETTE = ['#8a63d2', '#1f9d55', '#c68a00', '#d14343', '#7d8597', '#0e7490', '#db2777', '#4d7c0f', '#9a3412', '#4338ca'];
  const MAX_TIMELINE = 200;
  const ENDED_ROW_MS = 30000;
  const MAX_ENDED_ROWS = 100;
  const byId = (id) => document.getElementById(id);
  const colors = new Map();
  const finalStates = new Set();
  let offset = 0;
  let seq = 0;
  const serverNow = () => Date.now() + offset;

  function colorOf(state) {
    if (!colors.has(state)) colors.set(state, PALETTE[colors.size % PALETTE.length]);
    return colors.get(state);
  }
  function paint(node, state) {
    node.dataset.state = state;
    node.style.setProperty('--state-color', colorOf(state));
  }
  /** The session machine's states that hold sessions (not parents), in definition order. */
  const sessionStates = [];
  const stateOrder = () => sessionStates;
  /** A state the runtime reports that the drawing has no leaf for (e.g. a parent): listed too. */
  function noteSessionState(state) {
    if (sessionStates.includes(state)) return;
    sessionStates.push(state);
    colorOf(state);
    renderLegend();
  }
  const isFinal = (state) => finalStates.has(state);

  function duration(ms) {
    const value = Math.max(0, ms);
    if (value < 1000) return Math.round(value) + ' ms';
    if (value < 10000) return (value / 1000).toFixed(1) + 's';
    const s = Math.floor(value / 1000);
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
`;

const TABLE_AND_TIMELINE = `
  const tbody = byId('sessions').tBodies[0];
  const timeline = byId('timeline');
  /** id -> { tr, session, endedAt } */
  const rows = new Map();

  function field(row, name) { return row.tr.querySelector('[data-field="' + name + '"]'); }

  function setState(row, state) {
    row.session.state = state;
    row.tr.dataset.state = state;
    const badge = field(row, 'state').firstChild;
    badge.textContent = state;
    paint(badge, state);
  }

  function renderTimes(row) {
    const now = row.endedAt ?? serverNow();
    field(row, 'age').textContent = duration(now - row.session.createdAt);
    field(row, 'idle').textContent = row.endedAt === undefined ? duration(now - row.session.lastActivityAt) : '';
    field(row, 'requests').textContent = String(row.session.requests);
  }

  function addRow(session) {
    const tr = el('tr', { id: 'session-' + session.id, 'data-session-id': session.id, 'data-state': session.state });
    const stateCell = el('td', { 'data-field': 'state' });
    stateCell.append(el('span', { class: 'badge' }));
    tr.append(el('td', { 'data-field': 'id', title: session.id }, shortId(session.id)), stateCell,
      el('td', { 'data-field': 'age' }), el('td', { 'data-field': 'idle', class: 'optional' }),
      el('td', { 'data-field': 'requests', class: 'optional' }), el('td', { 'data-field': 'client', title: session.client ?? '' }, session.client ?? ''));
    tbody.prepend(tr);
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

  function refreshEmpty() {
    byId('empty').hidden = rows.size > 0;
    byId('timeline-empty').hidden = timeline.children.length > 0;
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
      if (event.from) {
        const from = el('span', { class: 'badge' }, event.from);
        paint(from, event.from);
        li.append(from, el('span', {}, '→'));
      }
      const to = el('span', { class: 'badge' }, event.to);
      paint(to, event.to);
      li.append(to);
      if (event.reason && !isFinal(event.to)) li.append(el('span', { class: 'reason' }, event.reason));
    }
    timeline.prepend(li);
    while (timeline.children.length > MAX_TIMELINE) timeline.lastElementChild.remove();
  }

  function applyEvent(event) {
    if (event.seq <= seq) return;
    seq = event.seq;
    addTimeline(event);
    if (event.type === 'rejected') return;
    noteSessionState(event.to);
    laneEvent(event);
    let row = rows.get(event.sessionId);
    if (!row) {
      if (event.from !== undefined) return;
      row = addRow({ id: event.sessionId, state: event.to, createdAt: event.createdAt,
        lastActivityAt: event.lastActivityAt, requests: event.requests, client: event.client });
    }
    row.session.lastActivityAt = event.lastActivityAt;
    row.session.requests = event.requests;
    setState(row, event.to);
    if (event.reason !== undefined && row.endedAt === undefined) {
      row.endedAt = event.at;
      row.tr.dataset.ended = '';
    }
    if (isFinal(event.to)) setTimeout(() => { removeRow(event.sessionId); refreshEmpty(); }, ENDED_ROW_MS);
    renderTimes(row);
  }
`;

const CARDS_AND_STREAM = `
  function applyStats(stats, total) {
    byId('capacity').textContent = stats.activeSessions + ' / ' + stats.maxSessions;
    byId('in-flight').textContent = String(stats.requestsInFlight);
    byId('admitted').textContent = String(stats.totals.admitted);
    byId('rejected').textContent = String(stats.totals.rejected);
    const ended = byId('ended');
    ended.firstChild.textContent = String(stats.totals.disposed);
    const reasons = Object.entries(stats.endedByReason).filter(([, count]) => count > 0);
    ended.lastChild.textContent = reasons.map(([reason, count]) => reason + ' ' + count).join(' · ');
    byId('phase').textContent = 'supervisor ' + stats.phase;
    if (total !== undefined) {
      const listed = [...rows.values()].filter((row) => row.endedAt === undefined).length;
      byId('note').textContent = total > listed ? 'Showing ' + listed + ' of ' + total + ' live sessions.' : '';
    }
  }

  function applySnapshot(snapshot) {
    offset = snapshot.now - Date.now();
    seq = snapshot.seq;
    const listed = new Set(snapshot.sessions.map((session) => session.id));
    // Rows of sessions that ended while we were not listening would stay live forever.
    for (const row of [...rows.values()]) {
      if (row.endedAt === undefined && !listed.has(row.session.id)) removeRow(row.session.id);
    }
    for (const lane of [...lanes.values()]) {
      if (lane.endedAt === undefined && lane.reason === undefined && !listed.has(lane.id)) lanes.delete(lane.id);
    }
    for (const session of snapshot.sessions) {
      noteSessionState(session.state);
      const row = rows.get(session.id) ?? addRow(session);
      Object.assign(row.session, session);
      setState(row, session.state);
      renderTimes(row);
      if (!lanes.has(session.id)) laneFromSession(session, snapshot.now);
    }
    applyStats(snapshot.stats, snapshot.total);
    applyModern(snapshot.modern);
    applyChartState(snapshot.counts, snapshot.taken);
    refreshEmpty();
    renderLanes();
  }

  function applyBatch(batch) {
    offset = batch.now - Date.now();
    for (const event of batch.events) applyEvent(event);
    pruneEnded();
    pruneLanes();
    applyStats(batch.stats);
    applyModern(batch.modern);
    applyChartState(batch.counts, batch.taken);
    refreshEmpty();
    renderLanes();
  }

  function setStatus(status, text) {
    const node = byId('status');
    node.dataset.status = status;
    node.textContent = text;
  }

  function showCharts(document) {
    for (const state of document.session.states) {
      if (state.type === 'final') finalStates.add(state.key);
      if (state.type !== 'compound' && state.type !== 'parallel') {
        colorOf(state.key);
        sessionStates.push(state.key);
      }
    }
    byId('chart-session').replaceChildren(drawChart('session', document.session));
    byId('chart-supervisor').replaceChildren(drawChart('supervisor', document.supervisor));
    renderLegend();
  }

  // The stream opens at once, but what it sends waits for the charts, which say which states are final.
  let chartsSettled = false;
  const early = [];
  function whenCharts(apply) {
    return (message) => {
      const data = JSON.parse(message.data);
      if (chartsSettled) apply(data); else early.push(() => apply(data));
    };
  }
  const source = new EventSource('events');
  source.addEventListener('open', () => setStatus('live', 'live'));
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) setStatus('closed', 'disconnected (reload to retry)');
    else setStatus('connecting', 'reconnecting…');
  });
  source.addEventListener('snapshot', whenCharts(applySnapshot));
  source.addEventListener('batch', whenCharts(applyBatch));

  fetch('charts.json')
    .then((response) => {
      if (!response.ok) return response.text().then((text) => { throw new Error(text); });
      return response.json();
    })
    .then(showCharts, (error) => {
      byId('charts-error').hidden = false;
      byId('charts-error').textContent = 'The statecharts could not be drawn: ' + error.message;
    })
    .finally(() => {
      chartsSettled = true;
      for (const apply of early.splice(0)) apply();
    });
  setInterval(() => {
    for (const row of rows.values()) renderTimes(row);
    renderLanes();
  }, 1000);
`;

/** The script, identical for every request. */
export const LIVE_VIEW_SCRIPT = `
(() => {
  'use strict';
${COMMON}
${CHARTS_SCRIPT}
${LANES_SCRIPT}
${MODERN_SCRIPT}
${TABLE_AND_TIMELINE}
${CARDS_AND_STREAM}
})();
`;
