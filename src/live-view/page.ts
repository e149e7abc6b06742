import { createHash } from 'node:crypto';
import { LIVE_VIEW_SCRIPT } from './page-script.js';
import { LIVE_VIEW_STYLE } from './page-style.js';

/*
 * The live view page: one HTML document, its CSS and JS inline, no framework and nothing fetched
 * from elsewhere (it must work on a machine with no network). The statecharts arrive laid out from
 * `charts.json`; everything else from the `events` stream (see page-script.ts).
 */

const card = (id: string, label: string, extra = ''): string =>
  `<div class="card"><dt>${label}</dt><dd id="${id}">–${extra}</dd></div>`;

/** The page, identical for every request (its base path is implied by its own URL). */
export const LIVE_VIEW_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MCP sessions — live</title>
<style>${LIVE_VIEW_STYLE}</style>
</head>
<body>
<header>
  <h1>MCP sessions</h1>
  <span id="status" data-status="connecting">connecting…</span>
  <span id="phase"></span>
</header>
<main>
  <dl id="counts" class="wide">
    ${card('capacity', 'live / capacity')}
    ${card('in-flight', 'requests in flight')}
    ${card('admitted', 'admitted')}
    ${card('rejected', 'rejected')}
    <div class="card"><dt>ended (total)</dt><dd id="ended"><span>–</span><small></small></dd></div>
  </dl>
  <section id="modern" class="wide" aria-labelledby="modern-title" data-served="false">
    <h2 id="modern-title">Sessionless requests · 2026-07-28 revision <small>answered one by one by the modern handler: no session, no slot of the capacity; counted since the view started</small></h2>
    <p id="modern-empty" class="empty">–</p>
    <div id="modern-figures" hidden>
      <dl>
        ${card('modern-total', 'requests')}
        ${card('modern-rate', 'per second (last 10 s)')}
      </dl>
      <div><h3>by status</h3><ol id="modern-status" class="count-list"></ol></div>
      <div><h3>by method</h3><ol id="modern-methods" class="count-list"></ol></div>
    </div>
  </section>
  <section class="wide" aria-labelledby="charts-title">
    <h2 id="charts-title">Statecharts <small>drawn from the machines: sessions in each state, times each arrow was taken since this view started listening; click a chart for full size</small></h2>
    <p id="charts-error" class="empty" hidden></p>
    <div id="charts">
      <figure><figcaption>session</figcaption><div id="chart-session" class="chart-scroll"></div></figure>
      <figure><figcaption>supervisor</figcaption><div id="chart-supervisor" class="chart-scroll"></div></figure>
    </div>
  </section>
  <section class="wide" aria-labelledby="lanes-title">
    <h2 id="lanes-title">Swimlanes <small>one row per session, newest first</small></h2>
    <div id="lane-filters">
      <label>state now <select id="filter-state"></select></label>
      <label>client <select id="filter-client"></select></label>
      <label>principal <select id="filter-principal"></select></label>
    </div>
    <div id="lanes"></div>
    <p id="lanes-empty" class="empty">No sessions yet: each session gets a row here when it is created.</p>
    <div id="legend"></div>
  </section>
  <section aria-labelledby="sessions-title">
    <h2 id="sessions-title">Sessions</h2>
    <div class="table-scroll">
      <table id="sessions">
        <thead><tr><th>id</th><th>state</th><th>age</th><th class="optional">last activity</th><th class="optional">requests</th><th>client</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p id="empty" class="empty">No live sessions.</p>
    <p id="note"></p>
  </section>
  <section aria-labelledby="timeline-title">
    <h2 id="timeline-title">Timeline</h2>
    <p id="timeline-empty" class="empty">No transitions since this page opened: they appear here, newest first, as sessions move.</p>
    <ol id="timeline"></ol>
  </section>
</main>
<script>${LIVE_VIEW_SCRIPT}</script>
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
  `script-src ${sha256(LIVE_VIEW_SCRIPT)}`,
  `style-src ${sha256(LIVE_VIEW_STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
