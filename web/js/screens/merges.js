// Merge history: every merge of the company, newest first, with undo (admin).
import { api, ApiError, query } from '../api.js';
import { announce, clear, fmtTime, h, shortId } from '../dom.js';

export async function renderMerges(view, session) {
  const body = h('div');
  clear(view, h('h1', { text: 'Merge history' }), body);
  const cursors = [null];
  let page = 0;
  const load = async () => {
    const data = await api('GET', `/v1/merges${query({ limit: 25, cursor: cursors[page] })}`);
    if (data.next_cursor && cursors.length === page + 1) cursors.push(data.next_cursor);
    const rows = data.items.map((m) => h('tr', { 'data-testid': 'merge-row' },
      h('td', { text: fmtTime(m.created_at) }),
      h('td', {}, h('a', { href: `#/customers/${m.target_id}`, text: shortId(m.target_id) })),
      h('td', { text: m.source_ids.map(shortId).join(', ') }),
      h('td', { text: m.actor || '—' }),
      h('td', {}, h('span', { class: `badge ${m.status}`, text: m.status })),
      h('td', {}, session.isAdmin && m.status === 'applied' ? h('button', { type: 'button', class: 'secondary',
        text: 'Undo', 'aria-label': `Undo merge ${shortId(m.merge_id)}`, onclick: async (e) => {
          e.target.disabled = true;
          try {
            await api('POST', `/v1/merges/${m.merge_id}/undo`);
            announce('Merge undone.');
            await load();
          } catch (err) {
            e.target.disabled = false;
            announce(err instanceof ApiError ? err.describe() : err.message, 'error');
          }
        } }) : null)));
    clear(body,
      h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Scrollable table' }, h('table', { class: 'list' },
        h('caption', { class: 'visually-hidden', text: 'Merges' }),
        h('thead', {}, h('tr', {}, ['When', 'Kept', 'Merged away', 'By', 'Status', 'Action']
          .map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 6, text: 'No merges yet.' }))))),
      h('div', { class: 'pager' },
        h('button', { type: 'button', class: 'secondary', text: 'Previous page', disabled: page === 0,
          onclick: () => { page -= 1; load(); } }),
        h('button', { type: 'button', class: 'secondary', text: 'Next page', disabled: !data.next_cursor,
          onclick: () => { page += 1; load(); } })));
  };
  await load();
}
