// One customer: inline edit with optimistic concurrency (If-Match; a conflict shows
// the other change and offers to reapply), stage, tags, notes, enrichment,
// conversations, timeline, soft delete and restore.
import { api, ApiError } from '../api.js';
import { announce, clear, field, fmtTime, h, select, shortId, STAGES } from '../dom.js';

const EDITABLE = [['name', 'Name', 'text'], ['email', 'Email', 'email'], ['phone', 'Phone', 'tel'],
  ['address', 'Address', 'text'], ['external_id', 'External id', 'text']];

function problemText(e) {
  return e instanceof ApiError ? e.describe() : e.message;
}

export async function renderCustomer(view, session, id) {
  let customer;
  try {
    customer = await api('GET', `/v1/customers/${id}`);
  } catch (e) {
    if (e.status === 404) {
      clear(view, h('h1', { text: 'Customer not found' }),
        h('p', {}, 'It may have been deleted or merged. ', h('a', { href: '#/customers', text: 'Back to customers' })));
      return;
    }
    throw e;
  }
  draw(view, session, customer);
}

function draw(view, session, c) {
  const deleted = c.status !== 'active';
  const refresh = async () => draw(view, session, await api('GET', `/v1/customers/${c.id}`));
  clear(view,
    h('p', { class: 'crumbs' }, h('a', { href: '#/customers', text: '← Customers' })),
    h('h1', { text: c.name || c.email || '(no name)' }),
    h('p', { class: 'meta' },
      h('span', { class: `badge stage-${c.lifecycle_stage}`, 'data-testid': 'stage-badge', text: c.lifecycle_stage }),
      ` · version ${c.version} · created ${fmtTime(c.created_at)} · source ${c.source}`,
      deleted ? h('strong', { class: 'badge danger', text: ` ${c.status}` }) : null),
    deleted ? deletedPanel(view, session, c) : null,
    detailsSection(session, c, refresh, deleted),
    deleted ? null : stageSection(session, c, refresh),
    deleted ? null : tagsSection(session, c, refresh),
    deleted ? null : notesSection(session, c, refresh),
    metricsSection(c),
    h('section', { class: 'panel', 'aria-labelledby': 'conv-h' }, h('h2', { id: 'conv-h', text: 'Conversations' }),
      lazyList(`/v1/customers/${c.id}/conversations?limit=20`, conversationItem, 'No conversations yet.')),
    h('section', { class: 'panel', 'aria-labelledby': 'tl-h' }, h('h2', { id: 'tl-h', text: 'Timeline' }),
      lazyList(`/v1/customers/${c.id}/timeline?limit=30`, timelineItem, 'Nothing happened yet.')),
    !deleted && session.isAdmin ? h('section', { class: 'panel danger-zone', 'aria-labelledby': 'dz-h' },
      h('h2', { id: 'dz-h', text: 'Delete' }),
      h('p', { text: 'Soft delete: the customer disappears from lists and can be restored.' }),
      h('button', { type: 'button', class: 'danger', text: 'Delete customer', onclick: async () => {
        try {
          const gone = await api('DELETE', `/v1/customers/${c.id}`, { ifMatch: c.version });
          announce('Customer deleted.');
          draw(view, session, gone);
        } catch (e) {
          announce(problemText(e), 'error');
        }
      } })) : null);
}

function deletedPanel(view, session, c) {
  return h('section', { class: 'panel warning' },
    h('p', { text: 'This customer is deleted.' }),
    session.isAdmin ? h('button', { type: 'button', text: 'Restore customer', onclick: async () => {
      try {
        const back = await api('POST', `/v1/customers/${c.id}/restore`);
        announce('Customer restored.');
        draw(view, session, back);
      } catch (e) {
        announce(problemText(e), 'error');
      }
    } }) : null);
}

function detailsSection(session, c, refresh, deleted) {
  const section = h('section', { class: 'panel', 'aria-labelledby': 'details-h' });
  const show = () => clear(section,
    h('h2', { id: 'details-h', text: 'Details' }),
    h('dl', { class: 'details' }, EDITABLE.map(([k, label]) => [h('dt', { text: label }),
      h('dd', { 'data-field': k, text: c[k] || '—' })])),
    session.canWrite && !deleted ? h('button', { type: 'button', text: 'Edit details', onclick: edit }) : null);

  const edit = (mine) => {
    const inputs = {};
    const error = h('div', { class: 'error', role: 'alert' });
    const form = h('form', { class: 'grid', onsubmit: async (e) => {
      e.preventDefault();
      const patch = {};
      for (const [k] of EDITABLE) {
        const v = inputs[k].value.trim();
        if (v !== (c[k] || '')) patch[k] = v === '' ? null : v;
      }
      if (!Object.keys(patch).length) { show(); return; }
      await save(patch, c.version, error);
    } }, EDITABLE.map(([k, label, type]) => {
      inputs[k] = h('input', { type, name: k, value: mine && k in mine ? (mine[k] ?? '') : (c[k] || '') });
      return field(label, inputs[k]);
    }), h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Save' }),
      h('button', { type: 'button', class: 'secondary', text: 'Cancel', onclick: show })), error);
    clear(section, h('h2', { id: 'details-h', text: 'Edit details' }), form);
    inputs.name.focus();
  };

  const save = async (patch, version, error) => {
    try {
      await api('PATCH', `/v1/customers/${c.id}`, { body: patch, ifMatch: version });
      announce('Saved.');
      await refresh();
    } catch (e) {
      if (e.status === 412 || e.status === 409 && !e.problem.existing_customer_id) {
        const theirs = await api('GET', `/v1/customers/${c.id}`);
        clear(error, conflictView(patch, c, theirs, async () => {
          Object.assign(c, theirs);
          await save(patch, theirs.version, error);
        }, async () => { announce('Your changes were discarded.'); await refresh(); }));
      } else if (e.status === 409 && e.problem.existing_customer_id) {
        clear(error, 'That email belongs to ',
          h('a', { href: `#/customers/${e.problem.existing_customer_id}`, text: 'another customer' }), '.');
      } else {
        error.textContent = problemText(e);
      }
    }
  };
  show();
  return section;
}

function conflictView(mine, before, theirs, reapply, discard) {
  // Every field you changed, and every field the other change touched.
  const keys = [...EDITABLE.map(([k]) => k), 'lifecycle_stage', 'notes']
    .filter((k) => k in mine || (before[k] ?? null) !== (theirs[k] ?? null));
  const rows = keys.map((k) => h('tr', {},
    h('th', { scope: 'row', text: k }), h('td', { text: before[k] ?? '—' }), h('td', { text: theirs[k] ?? '—' }),
    h('td', { text: k in mine ? (mine[k] ?? '—') : '(unchanged)' })));
  return h('div', { class: 'conflict', 'data-testid': 'conflict' },
    h('p', {}, h('strong', { text: 'Someone else changed this customer' }),
      ` (now version ${theirs.version}). Compare and choose:`),
    h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Scrollable table' }, h('table', {}, h('thead', {}, h('tr', {},
      ['Field', 'You started from', 'Now saved', 'Your change'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows))),
    h('div', { class: 'actions' },
      h('button', { type: 'button', text: 'Reapply my changes', onclick: reapply }),
      h('button', { type: 'button', class: 'secondary', text: 'Discard mine', onclick: discard })));
}

function stageSection(session, c, refresh) {
  const stage = select(STAGES.map((s) => [s, s]), c.lifecycle_stage, { disabled: !session.canWrite });
  return h('section', { class: 'panel', 'aria-labelledby': 'stage-h' }, h('h2', { id: 'stage-h', text: 'Stage' }),
    h('form', { class: 'inline', onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api('PUT', `/v1/customers/${c.id}/stage`, { body: { lifecycle_stage: stage.value }, ifMatch: c.version });
        announce(`Stage set to ${stage.value}.`);
        await refresh();
      } catch (err) {
        announce(problemText(err), 'error');
      }
    } }, field('Lifecycle stage', stage),
    session.canWrite ? h('button', { type: 'submit', text: 'Set stage' }) : null));
}

function tagsSection(session, c, refresh) {
  const input = h('input', { type: 'text', autocomplete: 'off', placeholder: 'vip' });
  const tagOp = async (method, tags) => {
    try {
      await api(method, `/v1/customers/${c.id}/tags`, { body: { tags } });
      await refresh();
    } catch (err) {
      announce(problemText(err), 'error');
    }
  };
  return h('section', { class: 'panel', 'aria-labelledby': 'tags-h' }, h('h2', { id: 'tags-h', text: 'Tags' }),
    h('ul', { class: 'tags', 'data-testid': 'tags' }, (c.tags || []).map((t) => h('li', { class: 'tag' }, t,
      session.canWrite ? h('button', { type: 'button', class: 'link', 'aria-label': `Remove tag ${t}`, text: '×',
        onclick: () => tagOp('DELETE', [t]) }) : null))),
    (c.tags || []).length ? null : h('p', { class: 'hint', text: 'No tags.' }),
    session.canWrite ? h('form', { class: 'inline', onsubmit: (e) => {
      e.preventDefault();
      const tags = input.value.split(',').map((t) => t.trim()).filter(Boolean);
      if (tags.length) tagOp('POST', tags);
    } }, field('Add tags (comma-separated)', input), h('button', { type: 'submit', text: 'Add' })) : null);
}

function notesSection(session, c, refresh) {
  const notes = h('textarea', { rows: 4, readonly: !session.canWrite }, c.notes || '');
  return h('section', { class: 'panel', 'aria-labelledby': 'notes-h' }, h('h2', { id: 'notes-h', text: 'Notes' }),
    h('form', { onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api('PUT', `/v1/customers/${c.id}/notes`, { body: { notes: notes.value }, ifMatch: c.version });
        announce('Notes saved.');
        await refresh();
      } catch (err) {
        announce(problemText(err), 'error');
      }
    } }, field('Notes', notes), session.canWrite ? h('div', { class: 'actions' },
      h('button', { type: 'submit', text: 'Save notes' }),
      h('button', { type: 'button', class: 'secondary', text: 'Enrich from conversations', onclick: async () => {
        try {
          const r = await api('POST', `/v1/customers/${c.id}/enrich`);
          const changed = Object.keys(r.changes || r.changed || {}).length;
          announce(changed ? 'Filled empty fields from the conversations.' : 'Nothing new found in the conversations.');
          await refresh();
        } catch (err) {
          announce(problemText(err), 'error');
        }
      } })) : null));
}

function metricsSection(c) {
  const m = c.metrics || {};
  const summary = h('p', { class: 'hint', text: 'Loading summary…' });
  api('GET', `/v1/customers/${c.id}/summary`).then((s) => {
    summary.textContent = s.summary || s.text || (s.highlights || []).join(' ') || 'No summary yet.';
  }).catch(() => { summary.textContent = 'No summary available.'; });
  return h('section', { class: 'panel', 'aria-labelledby': 'act-h' }, h('h2', { id: 'act-h', text: 'Activity' }),
    h('dl', { class: 'details' },
      h('dt', { text: 'Conversations' }), h('dd', { text: m.conversation_count ?? 0 }),
      h('dt', { text: 'Messages' }), h('dd', { text: m.message_count ?? 0 }),
      h('dt', { text: 'First contact' }), h('dd', { text: fmtTime(m.first_contact_at) }),
      h('dt', { text: 'Last contact' }), h('dd', { text: fmtTime(m.last_contact_at) })),
    h('h3', { text: 'Summary' }), summary);
}

function lazyList(path, render, emptyText) {
  const list = h('ul', { class: 'entries' }, h('li', { class: 'hint', text: 'Loading…' }));
  api('GET', path).then((page) => {
    clear(list, page.items.length ? page.items.map(render) : h('li', { class: 'hint', text: emptyText }));
  }).catch((e) => clear(list, h('li', { class: 'error', text: problemText(e) })));
  return list;
}

function conversationItem(cv) {
  return h('li', {},
    h('div', { class: 'entry-head' }, h('strong', { text: cv.session_id || cv.session_key }),
      ` · ${cv.message_count} message${cv.message_count === 1 ? '' : 's'} · last ${fmtTime(cv.last_message_at)}`),
    cv.last_user_message ? h('p', { class: 'msg user' }, h('span', { class: 'speaker', text: 'Customer: ' }), cv.last_user_message) : null,
    cv.last_ai_response ? h('p', { class: 'msg ai' }, h('span', { class: 'speaker', text: 'Assistant: ' }), cv.last_ai_response) : null);
}

function timelineItem(e) {
  let detail = '';
  if (e.data && typeof e.data === 'object') {
    const d = e.data;
    if (d.from !== undefined && d.to !== undefined) detail = `${d.from} → ${d.to}`;
    else if (d.merge_id) detail = `merge ${shortId(d.merge_id)}`;
  }
  return h('li', {}, h('span', { class: 'when', text: fmtTime(e.at) }), ' ',
    h('strong', { text: (e.type || e.kind).replaceAll('_', ' ') }), detail ? ` · ${detail}` : '');
}
