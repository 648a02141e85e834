// One customer: inline edit with optimistic concurrency (If-Match; a conflict shows
// the other change and offers to reapply: details, stage, notes and delete alike),
// stage, tags, notes, enrichment, conversations with their messages (expandable,
// paged), timeline, soft delete and restore.
import { api, ApiError, query } from '../api.js';
import { announce, clear, field, fmtTime, h, select, shortId, STAGES } from '../dom.js';

const EDITABLE = [['name', 'Name', 'text'], ['email', 'Email', 'email'], ['phone', 'Phone', 'tel'],
  ['address', 'Address', 'text'], ['external_id', 'External id', 'text']];

function problemText(e) {
  return e instanceof ApiError ? e.describe() : e.message;
}

// A write sent with If-Match `version` failed: is it because someone else saved a
// newer version? Resolves to the customer as now saved, or null (another error).
async function newerVersion(e, id, version) {
  if (!(e instanceof ApiError)) return null;
  if (e.status !== 412 && !(e.status === 409 && !e.problem.existing_customer_id)) return null;
  const theirs = await api('GET', `/v1/customers/${id}`);
  return theirs.version !== version ? theirs : null;
}

const MESSAGES_PAGE = 20;

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
  const deleteConflict = h('div');
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
      lazyList(`/v1/customers/${c.id}/conversations?limit=20`, (cv) => conversationItem(c.id, cv),
        'No conversations yet.')),
    h('section', { class: 'panel', 'aria-labelledby': 'tl-h' }, h('h2', { id: 'tl-h', text: 'Timeline' }),
      lazyList(`/v1/customers/${c.id}/timeline?limit=30`, timelineItem, 'Nothing happened yet.')),
    !deleted && session.isAdmin ? h('section', { class: 'panel danger-zone', 'aria-labelledby': 'dz-h' },
      h('h2', { id: 'dz-h', text: 'Delete' }),
      h('p', { text: 'Soft delete: the customer disappears from lists and can be restored.' }),
      h('button', { type: 'button', class: 'danger', text: 'Delete customer', onclick: () => remove(c.version) }),
      deleteConflict) : null);

  async function remove(version) {
    try {
      const gone = await api('DELETE', `/v1/customers/${c.id}`, { ifMatch: version });
      announce('Customer deleted.');
      draw(view, session, gone);
    } catch (e) {
      const theirs = await newerVersion(e, c.id, version).catch(() => null);
      if (!theirs) { announce(problemText(e), 'error'); return; }
      showConflict(deleteConflict, { status: 'deleted' }, c, theirs, () => remove(theirs.version), refresh,
        { reapply: 'Delete anyway', discard: 'Keep the customer' });
    }
  }
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

function conflictView(mine, before, theirs, reapply, discard, labels = {}) {
  // Every field you changed, and every field the other change touched.
  const keys = [...EDITABLE.map(([k]) => k), 'lifecycle_stage', 'notes', 'tags', 'status']
    .filter((k) => k in mine || show(before[k]) !== show(theirs[k]));
  const rows = keys.map((k) => h('tr', {},
    h('th', { scope: 'row', text: k }), h('td', { text: show(before[k]) }), h('td', { text: show(theirs[k]) }),
    h('td', { text: k in mine ? show(mine[k]) : '(unchanged)' })));
  return h('div', { class: 'conflict', 'data-testid': 'conflict', tabindex: -1 },
    h('p', {}, h('strong', { text: 'Someone else changed this customer' }),
      ` (now version ${theirs.version}). Compare and choose:`),
    h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Scrollable table' }, h('table', {}, h('thead', {}, h('tr', {},
      ['Field', 'You started from', 'Now saved', 'Your change'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows))),
    h('div', { class: 'actions' },
      h('button', { type: 'button', text: labels.reapply || 'Reapply my changes', onclick: reapply }),
      h('button', { type: 'button', class: 'secondary', text: labels.discard || 'Discard mine', onclick: discard })));
}

function show(v) {
  if (v === undefined || v === null || v === '') return '—';
  return Array.isArray(v) ? (v.join(', ') || '—') : String(v);
}

// Shows the conflict in `slot`: reapply writes `mine` again on the version now
// saved (which becomes what you started from, should it change once more); discard
// reloads the customer as saved.
function showConflict(slot, mine, c, theirs, reapply, refresh, labels) {
  const before = { ...c };
  const box = conflictView(mine, before, theirs, async () => {
    Object.assign(c, theirs);
    await reapply();
  }, async () => { announce('Your change was discarded.'); await refresh(); }, labels);
  clear(slot, box);
  announce('Someone else changed this customer meanwhile: compare and choose.', 'error');
  box.focus();
}

function stageSection(session, c, refresh) {
  const stage = select(STAGES.map((s) => [s, s]), c.lifecycle_stage, { disabled: !session.canWrite });
  const conflict = h('div');
  const save = async (value, version) => {
    try {
      await api('PUT', `/v1/customers/${c.id}/stage`, { body: { lifecycle_stage: value }, ifMatch: version });
      announce(`Stage set to ${value}.`);
      await refresh();
    } catch (err) {
      const theirs = await newerVersion(err, c.id, version).catch(() => null);
      if (!theirs) { announce(problemText(err), 'error'); return; }
      showConflict(conflict, { lifecycle_stage: value }, c, theirs, () => save(value, theirs.version), refresh);
    }
  };
  return h('section', { class: 'panel', 'aria-labelledby': 'stage-h' }, h('h2', { id: 'stage-h', text: 'Stage' }),
    h('form', { class: 'inline', onsubmit: (e) => {
      e.preventDefault();
      save(stage.value, c.version);
    } }, field('Lifecycle stage', stage),
    session.canWrite ? h('button', { type: 'submit', text: 'Set stage' }) : null), conflict);
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
  const conflict = h('div');
  const save = async (value, version) => {
    try {
      await api('PUT', `/v1/customers/${c.id}/notes`, { body: { notes: value }, ifMatch: version });
      announce('Notes saved.');
      await refresh();
    } catch (err) {
      const theirs = await newerVersion(err, c.id, version).catch(() => null);
      if (!theirs) { announce(problemText(err), 'error'); return; }
      showConflict(conflict, { notes: value }, c, theirs, () => save(value, theirs.version), refresh);
    }
  };
  return h('section', { class: 'panel', 'aria-labelledby': 'notes-h' }, h('h2', { id: 'notes-h', text: 'Notes' }),
    h('form', { onsubmit: (e) => {
      e.preventDefault();
      save(notes.value, c.version);
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
      } })) : null), conflict);
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

// One conversation: its summary, and its messages behind a toggle (loaded when first
// opened, MESSAGES_PAGE at a time, oldest first; "Show more messages" pages on).
function conversationItem(customerId, cv) {
  const label = cv.session_id || 'conversation without session';
  const n = cv.message_count;
  const listId = `msgs-${Math.random().toString(36).slice(2, 10)}`;
  const list = h('ol', { class: 'messages', 'aria-label': `Messages of ${label}` });
  const progress = h('p', { class: 'hint', 'data-testid': 'messages-progress' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => load(true) },
    'Show more messages', h('span', { class: 'visually-hidden', text: ` of ${label}` }));
  const panel = h('div', { id: listId, class: 'messages-panel', hidden: true }, list, progress, more);
  let cursor = null;
  let loaded = false;
  const load = async (fromMore) => {
    more.disabled = true;
    progress.textContent = 'Loading messages…';
    try {
      const page = await api('GET', `/v1/customers/${customerId}/conversations/${encodeURIComponent(cv.session_key)}`
        + `/messages${query({ limit: MESSAGES_PAGE, cursor })}`);
      loaded = true;
      const items = page.items.map(messageItem);
      list.append(...items);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      progress.textContent = cursor ? `Showing ${list.children.length} of ${n} messages.`
        : `All ${list.children.length} message${list.children.length === 1 ? '' : 's'}.`;
      // the button went away under the keyboard: continue at the first new message
      if (fromMore && !cursor && items.length) items[0].focus();
    } catch (e) {
      progress.textContent = problemText(e);
    } finally {
      more.disabled = false;
    }
  };
  const toggleText = (open) => [open ? 'Hide messages' : `Show ${n} message${n === 1 ? '' : 's'}`,
    h('span', { class: 'visually-hidden', text: ` of ${label}` })];
  const toggle = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': listId,
    onclick: async () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      clear(toggle, toggleText(open));
      panel.hidden = !open;
      if (open && !loaded) await load(false);
    } }, toggleText(false));
  return h('li', { 'data-testid': 'conversation' },
    h('div', { class: 'entry-head' }, h('strong', { text: cv.session_id || cv.session_key }),
      ` · ${n} message${n === 1 ? '' : 's'} · last ${fmtTime(cv.last_message_at)}`),
    cv.last_user_message ? h('p', { class: 'msg user' }, h('span', { class: 'speaker', text: 'Customer: ' }), cv.last_user_message) : null,
    cv.last_ai_response ? h('p', { class: 'msg ai' }, h('span', { class: 'speaker', text: 'Assistant: ' }), cv.last_ai_response) : null,
    toggle, panel);
}

function messageItem(m) {
  return h('li', { class: 'message', tabindex: -1, 'data-testid': 'message' },
    h('span', { class: 'when', text: fmtTime(m.created_at) }),
    m.user_message ? h('p', { class: 'msg user' }, h('span', { class: 'speaker', text: 'Customer: ' }), m.user_message) : null,
    m.ai_response ? h('p', { class: 'msg ai' }, h('span', { class: 'speaker', text: 'Assistant: ' }), m.ai_response) : null);
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
