// Overview: the company's figures at a glance (GET /v1/overview): customers by
// stage, the duplicate rate, today's conversations (UTC day), open sync failures.
import { api } from '../api.js';
import { announce, clear, fmtTime, h, STAGES } from '../dom.js';

const count = new Intl.NumberFormat(undefined);
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });

const REASONS = [
  ['error', 'Sync error'],
  ['paused', 'Stored while paused'],
  ['metrics', 'Metrics not updated'],
];

// One labelled figure: <div><dt>label</dt><dd data-testid>value</dd></div>
function figure(label, value, testid, hint) {
  return h('div', { class: 'figure' },
    h('dt', { text: label }),
    h('dd', { 'data-testid': testid }, value),
    hint ? h('dd', { class: 'hint', text: hint }) : null);
}

function card(id, title, ...children) {
  return h('section', { class: 'panel card', 'aria-labelledby': id },
    h('h2', { id, text: title }), ...children);
}

function stageTable(customers) {
  const total = customers.total;
  return h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-labelledby': 'ov-stage-caption' },
    h('table', { class: 'list' },
      h('caption', { id: 'ov-stage-caption', text: 'Active customers by lifecycle stage' }),
      h('thead', {}, h('tr', {}, ['Stage', 'Customers', 'Share'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, STAGES.map((stage) => {
        const n = customers.by_stage[stage] ?? 0;
        return h('tr', { 'data-testid': `overview-stage-${stage}` },
          h('th', { scope: 'row' }, h('span', { class: `badge stage-${stage}`, text: stage })),
          h('td', { class: 'num', 'data-testid': `overview-stage-${stage}-count`, text: count.format(n) }),
          h('td', {},
            h('meter', { min: 0, max: Math.max(total, 1), value: n, 'aria-label': `${stage}: share of active customers` }),
            ' ', total ? percent.format(n / total) : '—'));
      }))));
}

function render(body, o) {
  const d = o.duplicates;
  const groups = d.groups === null
    ? h('span', {}, 'not grouped yet: open ', h('a', { href: '#/duplicates', text: 'Duplicates' }))
    : h('a', { href: '#/duplicates', text: `${count.format(d.groups)} to review` });
  const f = o.chat_sync_failures;
  clear(body,
    h('p', { class: 'hint', 'data-testid': 'overview-as-of' },
      `Read ${fmtTime(o.as_of)}. “Today” is the UTC day: since ${fmtTime(o.day_start)} (00:00 UTC).`),
    h('div', { class: 'cards' },
      card('ov-customers', 'Customers',
        h('dl', { class: 'figures' },
          figure('Active customers', count.format(o.customers.total), 'overview-customers-total',
            'Soft-deleted and merged customers are not counted.')),
        stageTable(o.customers)),
      card('ov-duplicates', 'Duplicates',
        h('dl', { class: 'figures' },
          figure('Duplicate rate', percent.format(d.rate), 'overview-duplicate-rate',
            'Active customers in an open duplicate pair.'),
          figure('Customers in a pair', count.format(d.customers_in_pairs), 'overview-duplicate-customers'),
          figure('Open pairs', count.format(d.open_pairs), 'overview-duplicate-pairs',
            `Score ${d.min_score} or more, not dismissed.`),
          figure('Groups', groups, 'overview-duplicate-groups'))),
      card('ov-conversations', 'Conversations today',
        h('dl', { class: 'figures' },
          figure('Started today', count.format(o.conversations.started_today), 'overview-conversations-started'),
          figure('Active today', count.format(o.conversations.active_today), 'overview-conversations-active',
            'With a message today.'),
          figure('Messages today', count.format(o.conversations.messages_today), 'overview-messages-today'))),
      card('ov-sync', 'Chat sync',
        h('dl', { class: 'figures' },
          figure('Open sync failures', count.format(f.open), 'overview-sync-failures',
            'Chat rows stored but not linked to a customer.'),
          REASONS.map(([reason, label]) =>
            figure(label, count.format(f.by_reason[reason] ?? 0), `overview-sync-failures-${reason}`)),
          figure('Chats without a customer', h('a', { href: '#/orphans', text: count.format(o.orphaned_chat_rows),
            'aria-label': `${count.format(o.orphaned_chat_rows)} chat rows without a customer: open Unlinked chats` }),
          'overview-orphaned')))));
}

export async function renderOverview(view) {
  const body = h('div', { 'aria-busy': 'true' }, h('p', { text: 'Loading…' }));
  const refresh = h('button', { type: 'button', class: 'secondary', text: 'Refresh' });
  clear(view, h('div', { class: 'toolbar' }, h('h1', { text: 'Overview' }), refresh), body);
  let busy = false;  // the button stays enabled (and focused) while a refresh runs
  const load = async () => {
    if (busy) return;
    busy = true;
    body.setAttribute('aria-busy', 'true');
    try {
      render(body, await api('GET', '/v1/overview'));
    } finally {
      body.setAttribute('aria-busy', 'false');
      busy = false;
    }
  };
  refresh.addEventListener('click', async () => {
    try {
      await load();
      announce('Overview refreshed.');
    } catch (e) {
      announce(e.message, 'error');
    }
  });
  await load();
}
