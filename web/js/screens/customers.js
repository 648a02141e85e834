// Customers: filters, sort, keyset paging (the API's cursor), search as you type,
// bulk stage change (admin), new customer (agent, admin), CSV export of the
// filtered list (a plain link: the session cookie authenticates the GET).
import { api, ApiError, idempotencyKey, query } from '../api.js';
import { announce, clear, debounce, field, fmtTime, h, highlight, select, STAGES } from '../dom.js';

const PAGE_SIZE = 25;
// Kept while the console is open: coming back from a customer restores the list.
const state = { q: '', stage: '', tags: '', sort: 'created_at', order: 'desc', cursors: [null], page: 0 };

// The list's filters and sort, as GET /v1/customers and GET /v1/customers/export take them.
function filterParams() {
  return { q: state.q, lifecycle_stage: state.stage, tags_any: state.tags, sort: state.sort, order: state.order };
}

function exportHref() {
  return `/v1/customers/export${query(filterParams())}`;
}

export async function renderCustomers(view, session) {
  const results = h('div', { class: 'results' });
  const exportLink = h('a', {
    class: 'button secondary', href: exportHref(), download: true, 'data-testid': 'export-csv',
    'aria-describedby': 'export-hint', text: 'Export CSV',
  });
  const q = h('input', { type: 'search', value: state.q, autocomplete: 'off', placeholder: 'Name, email or phone' });
  const stage = select([['', 'Any stage'], ...STAGES.map((s) => [s, s])], state.stage);
  const tags = h('input', { type: 'text', value: state.tags, placeholder: 'vip, wholesale' });
  const sort = select([['created_at', 'Created'], ['name', 'Name'], ['last_contact', 'Last contact'],
    ['conversation_count', 'Conversations']], state.sort);
  const order = select([['desc', 'Descending'], ['asc', 'Ascending']], state.order);

  const reload = () => {
    state.q = q.value.trim();
    state.stage = stage.value;
    state.tags = tags.value.trim();
    state.sort = sort.value;
    state.order = order.value;
    state.cursors = [null];
    state.page = 0;
    exportLink.href = exportHref();
    load(results, session);
  };
  q.addEventListener('input', debounce(reload, 250));
  tags.addEventListener('input', debounce(reload, 400));
  for (const s of [stage, sort, order]) s.addEventListener('change', reload);

  clear(view,
    h('h1', { text: 'Customers' }),
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); reload(); } },
      field('Search', q), field('Stage', stage), field('Tags (any of)', tags), field('Sort by', sort),
      field('Order', order)),
    h('p', { class: 'toolbar' }, exportLink,
      h('span', { id: 'export-hint', class: 'hint', text: 'Every customer matching the filters, in this order (CSV).' }),
      session.canWrite ? h('a', { class: 'button secondary', href: '#/import', text: 'Import CSV' }) : null),
    session.canWrite ? newCustomerForm() : null,
    results);
  await load(results, session);
}

async function load(results, session) {
  const params = { ...filterParams(), limit: PAGE_SIZE, include_total: 'true', cursor: state.cursors[state.page] };
  let page;
  try {
    results.setAttribute('aria-busy', 'true');
    page = await api('GET', `/v1/customers${query(params)}`);
  } catch (e) {
    clear(results, h('p', { class: 'error', text: e instanceof ApiError ? e.describe() : e.message }));
    return;
  } finally {
    results.removeAttribute('aria-busy');
  }
  if (page.next_cursor && state.cursors.length === state.page + 1) state.cursors.push(page.next_cursor);

  const selected = new Set();
  const rows = page.items.map((c) => h('tr', {},
    session.isAdmin ? h('td', {}, h('input', {
      type: 'checkbox', 'aria-label': `Select ${c.name || c.email || c.id}`,
      onchange: (e) => (e.target.checked ? selected.add(c.id) : selected.delete(c.id)),
    })) : null,
    h('td', {}, h('a', { href: `#/customers/${c.id}` }, highlight(c.name || '(no name)', state.q))),
    h('td', {}, highlight(c.email, state.q)),
    h('td', {}, highlight(c.phone, state.q)),
    h('td', {}, h('span', { class: `badge stage-${c.lifecycle_stage}`, text: c.lifecycle_stage })),
    h('td', { text: (c.tags || []).join(', ') }),
    h('td', { text: c.metrics ? c.metrics.conversation_count : 0 }),
    h('td', { text: fmtTime(c.metrics && c.metrics.last_contact_at) }),
  ));

  const total = page.total ?? page.items.length;
  const prev = h('button', { type: 'button', class: 'secondary', disabled: state.page === 0, text: 'Previous page',
    onclick: () => { state.page -= 1; load(results, session); } });
  const next = h('button', { type: 'button', class: 'secondary', disabled: !page.next_cursor, text: 'Next page',
    onclick: () => { state.page += 1; load(results, session); } });

  clear(results,
    h('p', { class: 'count', 'data-testid': 'count' }, `${total} customer${total === 1 ? '' : 's'}`,
      state.page ? ` · page ${state.page + 1}` : ''),
    session.isAdmin ? bulkStage(selected, () => load(results, session)) : null,
    h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Scrollable table' },
      h('table', { class: 'list' },
        h('caption', { class: 'visually-hidden', text: 'Customers' }),
        h('thead', {}, h('tr', {},
          session.isAdmin ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: 'Select' })) : null,
          ['Name', 'Email', 'Phone', 'Stage', 'Tags', 'Conversations', 'Last contact']
            .map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 8, text: 'No customers match.' }))))),
    h('div', { class: 'pager' }, prev, next));
}

function bulkStage(selected, done) {
  const stage = select(STAGES.map((s) => [s, s]), 'customer');
  return h('form', { class: 'inline', onsubmit: async (e) => {
    e.preventDefault();
    if (!selected.size) { announce('Select customers first.', 'error'); return; }
    try {
      const r = await api('POST', '/v1/customers/bulk/stage', {
        body: { customer_ids: [...selected], lifecycle_stage: stage.value } });
      announce(`Stage changed for ${r.updated.length} customer(s).`);
      done();
    } catch (err) {
      announce(err.describe ? err.describe() : err.message, 'error');
    }
  } }, field('Set stage of selected to', stage), h('button', { type: 'submit', text: 'Apply' }));
}

function newCustomerForm() {
  const name = h('input', { type: 'text', required: true, autocomplete: 'off' });
  const email = h('input', { type: 'email', autocomplete: 'off' });
  const phone = h('input', { type: 'tel', autocomplete: 'off' });
  const error = h('p', { class: 'error', role: 'alert' });
  return h('details', { class: 'panel' }, h('summary', { text: 'New customer' }),
    h('form', { class: 'grid', onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = '';
      const body = { name: name.value.trim() };
      if (email.value.trim()) body.email = email.value.trim();
      if (phone.value.trim()) body.phone = phone.value.trim();
      try {
        const c = await api('POST', '/v1/customers', { body, headers: { 'Idempotency-Key': idempotencyKey('console-create') } });
        announce(`Created ${c.name}.`);
        location.hash = `#/customers/${c.id}`;
      } catch (err) {
        if (err.status === 409 && err.problem.existing_customer_id) {
          clear(error, 'That email belongs to ',
            h('a', { href: `#/customers/${err.problem.existing_customer_id}`, text: 'another customer' }), '.');
        } else {
          error.textContent = err.describe ? err.describe() : err.message;
        }
      }
    } }, field('Name', name), field('Email', email), field('Phone', phone),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Create customer' })), error));
}
