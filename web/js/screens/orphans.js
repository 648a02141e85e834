// Conversations without a customer: link one to a customer found by search, or
// create a customer from what the conversation says (agent, admin).
import { api, ApiError, idempotencyKey, query } from '../api.js';
import { announce, clear, debounce, field, fmtTime, h, shortId } from '../dom.js';

function problemText(e) {
  return e instanceof ApiError ? e.describe() : e.message;
}

export async function renderOrphans(view, session) {
  const body = h('div');
  clear(view, h('h1', { text: 'Conversations without a customer' }),
    h('p', { class: 'hint', text: 'Chat messages the sync could not link to anyone (no contact details, or stored while the sync was paused).' }),
    body);
  const load = async () => {
    const page = await api('GET', `/v1/conversations/orphaned${query({ limit: 50 })}`);
    // One entry per session, newest message first.
    const sessions = new Map();
    for (const row of page.items) {
      const key = row.session_id || `row-${row.id}`;
      if (!sessions.has(key)) sessions.set(key, []);
      sessions.get(key).push(row);
    }
    if (!sessions.size) {
      clear(body, h('p', { 'data-testid': 'no-orphans', text: 'Every conversation belongs to a customer.' }));
      return;
    }
    clear(body, h('ul', { class: 'entries' }, [...sessions.entries()].map(([key, rows]) =>
      orphanItem(key, rows, session, load))));
  };
  await load();
}

function orphanItem(sessionKey, rows, session, reload) {
  const first = rows[0];
  const item = h('li', { class: 'orphan', 'data-testid': 'orphan' },
    h('div', { class: 'entry-head' }, h('strong', { text: first.session_id || `message ${first.id}` }),
      ` · ${rows.length} message${rows.length === 1 ? '' : 's'} · ${fmtTime(first.created_at)}`),
    rows.slice(0, 3).map((r) => h('p', { class: 'msg user' }, h('span', { class: 'speaker', text: 'Customer: ' }), r.user_message || '')));
  if (!session.canWrite || !first.session_id) return item;

  const results = h('ul', { class: 'entries' });
  const search = h('input', { type: 'search', autocomplete: 'off', placeholder: 'Name, email or phone' });
  const link = async (customer) => {
    try {
      await api('POST', `/v1/conversations/${encodeURIComponent(first.session_id)}/link`, { body: { customer_id: customer.id } });
      announce(`Linked to ${customer.name || shortId(customer.id)}.`);
      await reload();
    } catch (e) {
      announce(problemText(e), 'error');
    }
  };
  search.addEventListener('input', debounce(async () => {
    const q = search.value.trim();
    if (!q) { clear(results); return; }
    try {
      const found = await api('GET', `/v1/customers/search${query({ q, limit: 5 })}`);
      clear(results, found.items.length ? found.items.map((c) => h('li', {},
        h('button', { type: 'button', class: 'secondary', text: `Link to ${c.name || c.email || shortId(c.id)}`,
          onclick: () => link(c) }), ' ', c.email || '')) : h('li', { class: 'hint', text: 'No customer matches.' }));
    } catch (e) {
      clear(results, h('li', { class: 'error', text: problemText(e) }));
    }
  }, 250));
  const named = rows.find((r) => r.customer_name || r.customer_email || r.customer_phone) || first;
  const create = h('button', { type: 'button', class: 'secondary', text: 'Create a customer from this conversation',
    onclick: async () => {
      const body = { name: named.customer_name || `Chat ${first.session_id}` };
      if (named.customer_email) body.email = named.customer_email;
      if (named.customer_phone) body.phone = named.customer_phone;
      try {
        const c = await api('POST', '/v1/customers', { body, headers: { 'Idempotency-Key': idempotencyKey('console-orphan') } });
        await link(c);
      } catch (e) {
        announce(problemText(e), 'error');
      }
    } });
  item.append(h('div', { class: 'inline' }, field(`Find a customer for ${first.session_id}`, search), create), results);
  return item;
}
