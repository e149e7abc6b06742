/**
 * The live view's stylesheet. State colours are not here: the page assigns them from the machine
 * definition (`--state-color` on each element), so a new state gets a colour with no edit.
 */
export const LIVE_VIEW_STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --fg: #1d2330; --muted: #6b7385; --card: #fff;
  --line: #dfe3ea; --node: #fbfcfd; --accent: #2563eb; --lit: #f59e0b; --good: #1f9d55; --bad: #d14343; }
@media (prefers-color-scheme: dark) { :root { --bg: #14171c; --fg: #e4e7ec; --muted: #9aa3b2; --card: #1d2128;
  --line: #2e343e; --node: #232831; --accent: #60a5fa; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .4rem 1rem; padding: 1rem 1.5rem; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.15rem; margin: 0; }
h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 .5rem; }
h2 small { text-transform: none; letter-spacing: 0; font-weight: 400; }
#status { font-size: .8rem; padding: .1rem .5rem; border-radius: 1rem; background: var(--line); }
#status[data-status="live"] { background: var(--good); color: #fff; }
#status[data-status="closed"] { background: var(--bad); color: #fff; }
#phase { color: var(--muted); font-size: .85rem; }
main { padding: 1rem 1.5rem; display: grid; gap: 1.25rem; grid-template-columns: minmax(0, 3fr) minmax(16rem, 2fr); }
main > * { min-width: 0; }
.wide { grid-column: 1 / -1; }
#counts { display: grid; gap: .75rem; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); margin: 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .6rem .8rem; min-width: 0; }
.card dt { font-size: .75rem; color: var(--muted); white-space: nowrap; }
.card dd { margin: 0; font-size: 1.5rem; font-variant-numeric: tabular-nums; white-space: nowrap; }
.card dd small { display: block; font-size: .72rem; color: var(--muted); white-space: normal; line-height: 1.3; }
section { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .8rem; min-width: 0; }
.empty { color: var(--muted); padding: .5rem; font-size: .85rem; }
.badge { display: inline-block; min-width: 4.5rem; text-align: center; padding: 0 .4rem; border-radius: 1rem;
  color: #fff; background: var(--state-color, var(--muted)); font-size: .8rem; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .78rem; }

/* The sessionless (2026-07-28) leg */
#modern-figures { display: grid; gap: .75rem 1.25rem; grid-template-columns: minmax(9rem, 1fr) minmax(9rem, 1fr) minmax(0, 3fr); align-items: start; }
#modern-figures[hidden] { display: none; }
#modern-figures dl { display: grid; gap: .75rem; margin: 0; }
h3 { font-size: .75rem; font-weight: 600; color: var(--muted); margin: 0 0 .3rem; }
.count-list { list-style: none; margin: 0; padding: 0; font-size: .8rem; }
.count-list li { position: relative; z-index: 0; display: flex; justify-content: space-between; gap: .75rem; padding: .15rem .4rem; }
.count-list .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.count-list .count { font-variant-numeric: tabular-nums; font-weight: 600; }
.count-list .bar { position: absolute; left: 0; top: 0; bottom: 0; z-index: -1; border-radius: 3px; background: var(--line); }
#modern-status li[data-status-class="2xx"] .bar { background: color-mix(in srgb, var(--good) 30%, transparent); }
#modern-status li[data-status-class="4xx"] .bar, #modern-status li[data-status-class="5xx"] .bar { background: color-mix(in srgb, var(--bad) 30%, transparent); }

/* Statecharts */
#charts { display: grid; gap: 1rem; grid-template-columns: minmax(0, 3fr) minmax(0, 1.2fr); align-items: start; }
figure { margin: 0; min-width: 0; }
figcaption { font-size: .8rem; color: var(--muted); margin-bottom: .3rem; }
.chart-scroll { overflow-x: auto; }
svg.chart { display: block; width: 100%; height: auto; max-width: var(--natural-width); cursor: zoom-in; }
svg.chart text { fill: var(--fg); font-size: 11px; }
svg.chart .state rect.box { fill: var(--node); stroke: var(--muted); stroke-width: 1.2; }
svg.chart .state[data-occupied] rect.box { stroke: var(--state-color, var(--accent)); stroke-width: 2.4; }
svg.chart .state[data-type="compound"] rect.box { fill: none; stroke-dasharray: 0; }
svg.chart .state rect.inner { fill: none; stroke: var(--muted); stroke-width: 1; }
svg.chart .state text.name { font: 600 13px system-ui, sans-serif; fill: var(--fg); }
svg.chart .state text.line { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; fill: var(--muted); }
svg.chart .state rect.swatch { fill: var(--state-color, transparent); }
svg.chart .count rect { fill: var(--state-color, var(--accent)); }
svg.chart .count text { fill: #fff; font: 600 11px system-ui, sans-serif; }
svg.chart .state:not([data-occupied]) .count rect { fill: var(--line); }
svg.chart .state:not([data-occupied]) .count text { fill: var(--muted); }
svg.chart .dot { fill: var(--fg); }
svg.chart .transition path { fill: none; stroke: var(--muted); stroke-width: 1.3; }
svg.chart .transition rect.label-bg { fill: var(--card); opacity: .85; }
svg.chart .transition tspan.label { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; fill: var(--muted); }
svg.chart .transition tspan.taken { font: 600 10.5px system-ui, sans-serif; fill: var(--accent); }
svg.chart .transition[data-taken] path { stroke: var(--accent); }
svg.chart .transition.lit path { stroke: var(--lit); stroke-width: 3; }
svg.chart marker path { fill: var(--muted); }

/* Swimlanes */
#lane-filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; margin-bottom: .6rem; font-size: .8rem; color: var(--muted); }
#lane-filters label { display: flex; gap: .35rem; align-items: center; }
#lane-filters select { font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: .3rem; padding: .1rem .3rem; max-width: 11rem; }
#lanes { display: grid; grid-template-columns: minmax(7rem, 12rem) minmax(0, 1fr) minmax(4.5rem, 7rem); gap: 2px .6rem; align-items: center; font-size: .78rem; }
#lanes .lane { display: contents; }
#lanes .who { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#lanes .who .mono { color: var(--muted); }
#lanes .track { position: relative; height: 1.1rem; background: var(--bg); border-radius: 3px; overflow: hidden; }
#lanes .segment { position: absolute; top: 0; bottom: 0; background: var(--state-color, var(--muted)); min-width: 2px; }
#lanes .segment[data-known="false"] { background: repeating-linear-gradient(135deg, var(--line) 0 4px, transparent 4px 8px); }
#lanes .end { color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#lanes .axis { position: relative; height: 1.1rem; color: var(--muted); font-size: .7rem; }
#lanes .tick { position: absolute; top: 0; transform: translateX(-50%); white-space: nowrap; }
#lanes .tick:first-child { transform: none; }
#legend { display: flex; flex-wrap: wrap; gap: .3rem .8rem; margin-top: .6rem; font-size: .75rem; color: var(--muted); }
#legend span::before { content: ""; display: inline-block; width: .7rem; height: .7rem; border-radius: 2px; margin-right: .3rem;
  vertical-align: -1px; background: var(--state-color, var(--muted)); }
#legend span[data-known="false"]::before { background: repeating-linear-gradient(135deg, var(--muted) 0 2px, transparent 2px 4px); }

/* Table and timeline */
.table-scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-size: .75rem; color: var(--muted); font-weight: 600; }
td[data-field="id"] { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .8rem; }
td[data-field="client"] { max-width: 12rem; overflow: hidden; text-overflow: ellipsis; }
tr[data-ended] { opacity: .55; }
#timeline { list-style: none; margin: 0; padding: 0; max-height: 70vh; overflow: auto; font-size: .85rem; }
#timeline li { display: flex; flex-wrap: wrap; gap: .2rem .5rem; align-items: baseline; padding: .2rem 0; border-bottom: 1px solid var(--line); }
#timeline time, #timeline .sid { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .75rem; color: var(--muted); }
#timeline .reason { color: var(--muted); }
#note { color: var(--muted); font-size: .8rem; }
@media (max-width: 900px) { main, #charts { grid-template-columns: minmax(0, 1fr); } 
  #modern-figures { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  #modern-figures dl { grid-column: 1 / -1; grid-template-columns: repeat(2, minmax(0, 1fr)); } }
@media (max-width: 560px) {
  main { padding: .75rem; gap: .9rem; }
  header { padding: .75rem; }
  #counts { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  #counts .card:last-child:nth-child(odd) { grid-column: 1 / -1; }
  #lanes { grid-template-columns: minmax(4.5rem, 6rem) minmax(0, 1fr) minmax(4.5rem, 5.8rem); font-size: .72rem; }
  .optional { display: none; }
  #modern-figures { grid-template-columns: minmax(0, 1fr); }
  /* Stacked under the session chart, the supervisor's would otherwise be drawn twice as large. */
  #chart-supervisor svg.chart { max-width: min(var(--natural-width), 45%); }
}
`;
