// Duplicates: the queue of groups (score, reasons, the evidence of each pair), a
// side-by-side merge preview with a choice per conflicting field, merge (admin),
// undo right away (admin), "not a duplicate" (agent, admin).
import { api, ApiError, idempotencyKey } from '../api.js';
import { announce, clear, h, shortId } from '../dom.js';

const CHOOSABLE = new Set(['name', 'email', 'phone', 'address', 'lifecycle_stage']);

function problemText(e) {
  return e instanceof ApiError ? e.describe() : e.message;
}

function pct(score) {
  return `${Math.round(score * 100)}%`;
}

export async function renderDuplicates(view, session) {
  const list = h('div', { class: 'groups' });
  const review = h('section', { class: 'review', 'aria-live': 'polite' });
  clear(view, h('h1', { text: 'Duplicates' }),
    h('p', { class: 'hint', text: 'Groups of customers that look like one person, strongest first.' }),
    h('div', { class: 'split' }, list, review));
  await loadGroups(list, review, session);
}

async function loadGroups(list, review, session) {
  const page = await api('GET', '/v1/duplicates?limit=50');
  if (!page.items.length) {
    clear(list, h('p', { 'data-testid': 'no-duplicates', text: 'No duplicate candidates. Nice and clean.' }));
    return;
  }
  clear(list, h('p', { class: 'count', text: `${page.total_groups} group${page.total_groups === 1 ? '' : 's'}` }),
    h('ul', { class: 'group-list' }, page.items.map((g) => h('li', { class: 'group', 'data-testid': 'duplicate-group' },
      h('div', { class: 'entry-head' }, h('span', { class: 'score', text: pct(g.score) }), ' ',
        g.customers.map((c) => c.name || shortId(c.id)).join(' · ')),
      h('p', { class: 'hint', text: (g.reasons || []).join(', ') }),
      h('button', { type: 'button', text: 'Review',
        'aria-label': `Review ${g.customers.map((c) => c.name || shortId(c.id)).join(' and ')}`,
        onclick: () => openReview(review, g, session, () => loadGroups(list, review, session)) })))));
}

async function openReview(review, group, session, reloadGroups) {
  const ids = group.customers.map((c) => c.id);
  const names = Object.fromEntries(group.customers.map((c) => [c.id, c.name || shortId(c.id)]));
  let target = ids[0];
  const body = h('div');
  const draw = async () => {
    let preview;
    try {
      preview = await api('POST', '/v1/merges/preview', { body: { target_id: target, source_ids: ids.filter((i) => i !== target) } });
    } catch (e) {
      clear(body, h('p', { class: 'error', text: problemText(e) }));
      return;
    }
    const choices = {};
    const rows = preview.fields.map((f) => {
      const choosable = f.conflict && CHOOSABLE.has(f.field);
      const cells = f.values.map((v) => {
        if (!choosable) return h('td', { text: v.value ?? '—' });
        const radio = h('input', { type: 'radio', name: `choice-${f.field}`, value: v.value ?? '',
          checked: v.value === f.proposed, onchange: () => { choices[f.field] = v.value; } });
        return h('td', {}, h('label', { class: 'choice' }, radio, ' ', v.value ?? '—'));
      });
      return h('tr', { class: f.conflict ? 'conflict-row' : '' },
        h('th', { scope: 'row', text: f.field }), cells,
        h('td', { class: 'hint', text: choosable ? 'choose' : (f.proposed ?? '—') }));
    });
    const evidence = (group.pairs || []).map((p) => h('li', {},
      h('div', { class: 'entry-head' }, `${names[p.a] || shortId(p.a)} ↔ ${names[p.b] || shortId(p.b)} · `,
        h('span', { class: 'score', text: pct(p.score) })),
      p.explanation ? h('p', { class: 'hint', text: p.explanation }) : null,
      h('ul', { class: 'evidence' }, (p.evidence || []).map((e) => h('li', {},
        `${e.comparison}: ${e.level}`, e.detail ? ` (${e.detail})` : '', ` · ${e.weight > 0 ? '+' : ''}${e.weight} bits`))),
      session.canWrite ? h('button', { type: 'button', class: 'secondary', text: 'Not a duplicate',
        'aria-label': `Not a duplicate: ${names[p.a]} and ${names[p.b]}`, onclick: async () => {
          try {
            await api('POST', '/v1/duplicates/dismiss', { body: { customer_ids: [p.a, p.b] } });
            announce('Marked as not a duplicate; the pair will not be proposed again.');
            clear(review);
            await reloadGroups();
          } catch (e) {
            announce(problemText(e), 'error');
          }
        } }) : null));

    const targetPicker = h('fieldset', { class: 'inline' }, h('legend', { text: 'Keep as the surviving record' }),
      ids.map((i) => h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'merge-target', value: i,
        checked: i === target, onchange: () => { target = i; draw(); } }), ' ', names[i])));

    const result = h('div', { 'data-testid': 'merge-result' });
    clear(body, targetPicker,
      h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Scrollable table' }, h('table', { class: 'preview', 'data-testid': 'merge-preview' },
        h('caption', { text: 'Merge preview: pick a value for each conflicting field' }),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Field' }),
          preview.fields.length ? preview.fields[0].values.map((v) => h('th', { scope: 'col',
            text: `${names[v.customer_id] || shortId(v.customer_id)}${v.customer_id === target ? ' (kept)' : ''}` })) : null,
          h('th', { scope: 'col', text: 'Result' }))),
        h('tbody', {}, rows))),
      h('p', { class: 'hint', text: `Moves: ${Object.entries(preview.moves || {}).map(([k, v]) => `${v} ${k.replaceAll('_', ' ')}`).join(', ') || 'nothing'}` }),
      session.isAdmin ? h('button', { type: 'button', text: 'Merge', onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          const merged = await api('POST', '/v1/merges', {
            body: { target_id: target, source_ids: ids.filter((i) => i !== target), field_choices: choices },
            headers: { 'Idempotency-Key': idempotencyKey('console-merge') } });
          announce('Merged.');
          clear(result, h('p', {}, 'Merged into ', h('a', { href: `#/customers/${merged.target_id}`, text: names[merged.target_id] }), '. '),
            h('button', { type: 'button', class: 'secondary', text: 'Undo merge', onclick: async (e2) => {
              e2.target.disabled = true;
              try {
                await api('POST', `/v1/merges/${merged.merge_id}/undo`);
                announce('Merge undone.');
                clear(result, h('p', { text: 'Merge undone: the customers are separate again.' }));
                await reloadGroups();
              } catch (e) {
                e2.target.disabled = false;
                announce(problemText(e), 'error');
              }
            } }));
          await reloadGroups();
        } catch (e) {
          ev.target.disabled = false;
          announce(problemText(e), 'error');
        }
      } }) : h('p', { class: 'hint', text: 'Merging needs the admin role.' }),
      result,
      h('h3', { text: 'Evidence' }), h('ul', { class: 'entries' }, evidence));
  };
  clear(review, h('h2', { text: 'Review group' }), body);
  await draw();
  review.querySelector('h2').tabIndex = -1;
  review.querySelector('h2').focus();
}
