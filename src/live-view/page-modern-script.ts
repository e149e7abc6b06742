/*
 * Browser code for the sessionless (2026-07-28) panel: that leg holds no session, so it is shown
 * apart from the charts, as counts. The server sends them whole on every snapshot and batch
 * (`modern`, see modern-traffic.ts); this only draws them. Part of the page's one inline script.
 *
 *   #modern[data-served]   #modern-total #modern-rate   #modern-empty
 *   #modern-status li[data-status-class] .count          #modern-methods li[data-method] .count
 */
export const MODERN_SCRIPT = `
  function countList(list, attribute, counts, order) {
    const entries = Object.entries(counts).sort(order);
    const most = Math.max(1, ...entries.map(([, count]) => count));
    list.replaceChildren(...entries.map(([name, count]) => {
      const li = el('li', { [attribute]: name });
      const bar = el('span', { class: 'bar' });
      bar.style.width = (100 * count / most).toFixed(1) + '%';
      li.append(el('span', { class: 'name mono' }, name), el('span', { class: 'count' }, String(count)), bar);
      return li;
    }));
  }

  function applyModern(modern) {
    if (!modern) return;
    const panel = byId('modern');
    panel.dataset.served = String(modern.served);
    byId('modern-figures').hidden = modern.total === 0;
    byId('modern-empty').hidden = modern.total > 0;
    byId('modern-empty').textContent = modern.served
      ? 'No sessionless requests yet: each request of a 2026-07-28 client is counted here, by method and status.'
      : 'Not served: this supervisor has no modern handler, so 2026-07-28 clients are refused and fall back to a 2025 session.';
    byId('modern-total').textContent = String(modern.total);
    byId('modern-rate').textContent = modern.perSecond.toFixed(1);
    countList(byId('modern-status'), 'data-status-class', modern.byStatus, ([a], [b]) => a.localeCompare(b));
    countList(byId('modern-methods'), 'data-method', modern.byMethod, ([a, x], [b, y]) => y - x || a.localeCompare(b));
  }
`;
