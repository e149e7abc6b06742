/*
 * Browser code that draws the statecharts the server laid out (`charts.json`) as SVG and keeps
 * their counts current. It knows no state by name: everything comes from the drawing and from the
 * counts the server sends keyed by state and transition id. Part of the page's one inline script
 * (see page-script.ts), so it only defines functions on the shared scope.
 *
 *   svg.chart[data-machine=<name>] g.state[data-state-id][data-key][data-count]
 *   svg.chart g.transition[data-transition-id][data-taken]     (lit: class "lit" for a moment)
 */
export const CHARTS_SCRIPT = `
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const LIT_MS = 1500;
  /** name ('session' | 'supervisor') -> svg element */
  const chartSvgs = new Map();
  const takenSeen = new Map();

  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function countBadge(x, y) {
    const g = svgEl('g', { class: 'count' });
    g.append(svgEl('rect', { x: x - 34, y: y + 5, width: 28, height: 16, rx: 8 }));
    g.append(svgEl('text', { x: x - 20, y: y + 17, 'text-anchor': 'middle' }, '0'));
    return g;
  }

  function drawState(state) {
    const g = svgEl('g', { class: 'state', 'data-state-id': state.id, 'data-key': state.key, 'data-type': state.type, 'data-count': '0' });
    if (state.type !== 'compound' && state.type !== 'parallel') paint(g, state.key);
    const { x, y, width, height } = state;
    g.append(svgEl('rect', { class: 'box', x, y, width, height, rx: 8 }));
    if (state.type === 'final') g.append(svgEl('rect', { class: 'inner', x: x + 3, y: y + 3, width: width - 6, height: height - 6, rx: 6 }));
    if (state.type !== 'compound' && state.type !== 'parallel') g.append(svgEl('rect', { class: 'swatch', x: x + 1, y: y + 8, width: 4, height: 14, rx: 2 }));
    g.append(svgEl('text', { class: 'name', x: x + 10, y: y + 19 }, state.key));
    [...state.invokes, ...state.internal].forEach((line, index) => {
      g.append(svgEl('text', { class: 'line', x: x + 10, y: y + 40 + index * 15 }, line));
    });
    g.append(countBadge(x + width, y));
    return g;
  }

  function drawTransition(transition, marker) {
    const points = transition.points;
    if (points.length < 2) return undefined;
    const g = svgEl('g', { class: 'transition', 'data-transition-id': transition.id, 'data-source': transition.source,
      'data-target': transition.target, 'data-kind': transition.kind });
    g.append(svgEl('title', {}, (transition.label || 'initial') + (transition.guard ? ' [' + transition.guard + ']' : '')));
    g.append(svgEl('path', { d: 'M' + points.map((p) => p.x + ',' + p.y).join(' L'), 'marker-end': 'url(#' + marker + ')' }));
    const at = transition.labelAt ?? { x: points[0].x + 6, y: points[0].y - 2 };
    const text = svgEl('text', { x: at.x + 3, y: at.y + 11 });
    if (transition.label) text.append(svgEl('tspan', { class: 'label' }, transition.label));
    const taken = svgEl('tspan', { class: 'taken', dx: transition.label ? 5 : 0 }, '');
    text.append(taken);
    if (transition.label) {
      g.append(svgEl('rect', { class: 'label-bg', x: at.x, y: at.y, width: transition.label.length * 6.7 + 6, height: 15, rx: 3 }));
    }
    g.append(text);
    return g;
  }

  function drawChart(name, drawing) {
    const pad = 6;
    const width = drawing.width + 2 * pad;
    const svg = svgEl('svg', { class: 'chart', 'data-machine': name, viewBox: [-pad, -pad, width, drawing.height + 2 * pad].join(' '),
      role: 'img', 'aria-label': 'Statechart of the ' + drawing.machine + ' machine' });
    svg.style.setProperty('--natural-width', width + 'px');
    // Fits the column; a click shows it at full size, scrolling sideways on a narrow screen.
    svg.addEventListener('click', () => {
      svg.style.minWidth = svg.style.minWidth ? '' : width + 'px';
    });
    const marker = 'arrow-' + name;
    const defs = svgEl('defs', {});
    const head = svgEl('marker', { id: marker, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    head.append(svgEl('path', { d: 'M0,0 L10,5 L0,10 z' }));
    defs.append(head);
    svg.append(defs);
    for (const state of drawing.states) svg.append(drawState(state));
    for (const dot of drawing.dots) svg.append(svgEl('circle', { class: 'dot', cx: dot.x + dot.size / 2, cy: dot.y + dot.size / 2, r: dot.size / 2 }));
    for (const transition of drawing.transitions) {
      const g = drawTransition(transition, marker);
      if (g) svg.append(g);
    }
    chartSvgs.set(name, svg);
    return svg;
  }

  function light(g) {
    g.classList.add('lit');
    clearTimeout(g.litTimer);
    g.litTimer = setTimeout(() => g.classList.remove('lit'), LIT_MS);
  }

  /** counts: { [chart name]: { [state id]: n } }, taken: { [transition id]: n } */
  function applyChartState(counts, taken) {
    for (const [name, svg] of chartSvgs) {
      const byState = (counts && counts[name]) || {};
      for (const g of svg.querySelectorAll('g.state')) {
        const count = byState[g.dataset.stateId] ?? 0;
        g.dataset.count = String(count);
        g.querySelector('.count text').textContent = String(count);
        if (count > 0) g.dataset.occupied = ''; else delete g.dataset.occupied;
      }
      for (const g of svg.querySelectorAll('g.transition')) {
        const id = g.dataset.transitionId;
        const count = (taken && taken[id]) ?? 0;
        // Lit only when taken while the page watched, not for what the first snapshot reports.
        const before = takenSeen.get(id);
        takenSeen.set(id, count);
        g.querySelector('.taken').textContent = count > 0 ? '×' + count : '';
        if (count > 0) g.dataset.taken = String(count); else delete g.dataset.taken;
        if (before !== undefined && count > before) light(g);
      }
    }
  }
`;
