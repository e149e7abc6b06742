/*
 * Browser code for the swimlanes: one row per session, newest first and at most MAX_LANES of
 * them, a coloured segment per state it was in over time, its client and principal on the left
 * and its end reason on the right, under a time axis. Filters narrow the rows by the state a
 * session is in now, its client or its principal. Part of the page's one inline script.
 *
 *   #lanes .lane[data-session-id][data-state][data-client][data-principal]
 *     .segment[data-state][data-known]   .end[data-reason]
 */
export const LANES_SCRIPT = `
  const MAX_LANES = 40;
  /** Ended lanes kept in memory beyond those shown, so a filter change still finds them. */
  const MAX_KEPT_LANES = 200;
  const NICE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].map((s) => s * 1000);
  /** id -> { id, client, principal, createdAt, segments: [{ state, start, end, known }], state, reason, endedAt } */
  const lanes = new Map();
  const laneFilters = { state: '', client: '', principal: '' };
  /** Arrival order: sessions created in the same millisecond still list newest first. */
  let laneSeq = 0;
  const newestFirst = (a, b) => b.createdAt - a.createdAt || b.order - a.order;

  function laneFromSession(session, seenAt) {
    // What happened before this page connected is unknown: drawn hatched, up to when it was seen.
    const lane = { id: session.id, client: session.client, principal: session.principal, createdAt: session.createdAt,
      segments: [], state: session.state, reason: undefined, endedAt: undefined, order: ++laneSeq };
    if (seenAt > session.createdAt) lane.segments.push({ state: session.state, start: session.createdAt, end: seenAt, known: false });
    lane.segments.push({ state: session.state, start: Math.max(seenAt, session.createdAt), end: undefined, known: true });
    lanes.set(session.id, lane);
    return lane;
  }

  function laneEvent(event) {
    let lane = lanes.get(event.sessionId);
    if (!lane) {
      if (event.from !== undefined) return;
      lane = { id: event.sessionId, client: event.client, principal: event.principal, createdAt: event.createdAt,
        segments: [], state: event.to, reason: undefined, endedAt: undefined, order: ++laneSeq };
      lanes.set(event.sessionId, lane);
    }
    const open = lane.segments[lane.segments.length - 1];
    if (open && open.end === undefined) open.end = event.at;
    lane.state = event.to;
    if (event.reason !== undefined) lane.reason = event.reason;
    if (isFinal(event.to)) lane.endedAt = event.at;
    else lane.segments.push({ state: event.to, start: event.from === undefined ? event.createdAt : event.at, end: undefined, known: true });
  }

  function pruneLanes() {
    if (lanes.size <= MAX_KEPT_LANES) return;
    const ended = [...lanes.values()].filter((lane) => lane.endedAt !== undefined).sort(newestFirst).reverse();
    for (const lane of ended.slice(0, lanes.size - MAX_KEPT_LANES)) lanes.delete(lane.id);
  }

  function laneMatches(lane) {
    return (!laneFilters.state || lane.state === laneFilters.state)
      && (!laneFilters.client || (lane.client ?? '') === laneFilters.client)
      && (!laneFilters.principal || (lane.principal ?? '') === laneFilters.principal);
  }

  /** Keeps a select's options equal to the values seen, without losing the current choice. */
  function syncOptions(select, values, describe, sort = true) {
    const unique = [...new Set(values)];
    const wanted = ['', ...(sort ? unique.sort() : unique)];
    const have = [...select.options].map((option) => option.value);
    if (wanted.length === have.length && wanted.every((value, i) => value === have[i])) return;
    const chosen = select.value;
    select.replaceChildren(...wanted.map((value) => el('option', { value }, value === '' ? 'any' : describe(value))));
    select.value = wanted.includes(chosen) ? chosen : '';
  }

  function syncLaneFilters() {
    const all = [...lanes.values()];
    syncOptions(byId('filter-state'), stateOrder(), (value) => value, false);
    syncOptions(byId('filter-client'), all.map((lane) => lane.client ?? ''), (value) => value || '(none)');
    syncOptions(byId('filter-principal'), all.map((lane) => lane.principal ?? ''), (value) => value || '(anonymous)');
  }

  /** A round step giving at most one tick per ~80 px of the track. */
  function axisStep(span, pixels) {
    const ticks = Math.max(2, Math.floor(pixels / 80));
    return NICE_STEPS.find((step) => span / step <= ticks) ?? NICE_STEPS[NICE_STEPS.length - 1];
  }

  function renderLanes() {
    syncLaneFilters();
    const now = serverNow();
    const shown = [...lanes.values()].filter(laneMatches).sort(newestFirst).slice(0, MAX_LANES);
    const container = byId('lanes');
    byId('lanes-empty').hidden = shown.length > 0;
    byId('lanes-empty').textContent = lanes.size === 0
      ? 'No sessions yet: each session gets a row here when it is created.'
      : 'No session matches these filters.';
    if (shown.length === 0) { container.replaceChildren(); return; }
    const oldest = Math.min(...shown.map((lane) => lane.createdAt));
    const span = Math.min(Math.max(now - oldest, 10000), 3600000);
    const from = now - span;
    const at = (time) => ((Math.max(time, from) - from) / span) * 100;

    const axis = el('div', { class: 'axis', 'aria-hidden': 'true' });
    const trackWidth = container.querySelector('.axis')?.clientWidth || container.clientWidth * 0.6;
    const step = axisStep(span, trackWidth);
    for (let ago = Math.floor(span / step) * step; ago >= 0; ago -= step) {
      const tick = el('span', { class: 'tick' }, ago === 0 ? 'now' : '−' + duration(ago));
      tick.style.left = (100 - (ago / span) * 100) + '%';
      axis.append(tick);
    }
    const rows = [el('div', {}), axis, el('div', {})];
    for (const lane of shown) {
      const row = el('div', { class: 'lane', 'data-session-id': lane.id, 'data-state': lane.state,
        'data-client': lane.client ?? '', 'data-principal': lane.principal ?? '' });
      const who = el('div', { class: 'who', title: lane.id + (lane.principal ? ' · principal ' + lane.principal : '') });
      who.append(el('span', { class: 'client' }, lane.client ?? '(no client name)'), ' ', el('span', { class: 'mono' }, shortId(lane.id)));
      const track = el('div', { class: 'track' });
      for (const segment of lane.segments) {
        const end = segment.end ?? lane.endedAt ?? now;
        if (end < from) continue;
        const node = el('div', { class: 'segment', 'data-state': segment.state, 'data-known': String(segment.known),
          title: (segment.known ? segment.state : 'before this page opened (now ' + segment.state + ')') + ', ' + duration(end - segment.start) });
        if (segment.known) paint(node, segment.state);
        node.style.left = at(segment.start) + '%';
        node.style.width = Math.max(0, at(end) - at(segment.start)) + '%';
        track.append(node);
      }
      const end = el('div', { class: 'end', 'data-reason': lane.reason ?? '',
        title: lane.endedAt !== undefined ? 'lived ' + duration(lane.endedAt - lane.createdAt) : '' }, lane.reason ?? '');
      row.append(who, track, end);
      rows.push(row);
    }
    container.replaceChildren(...rows);
  }

  function renderLegend() {
    const legend = byId('legend');
    legend.replaceChildren();
    for (const key of stateOrder()) {
      if (isFinal(key)) continue;
      const item = el('span', {}, key);
      paint(item, key);
      legend.append(item);
    }
    legend.append(el('span', { 'data-known': 'false' }, 'before this page opened'));
  }

  for (const name of ['state', 'client', 'principal']) {
    byId('filter-' + name).addEventListener('change', (change) => {
      laneFilters[name] = change.target.value;
      renderLanes();
    });
  }
`;
