// Import: upload a CSV file to POST /v1/customers/import (the rules of
// `tradesphere import`), then the counts and the line-numbered rejects and warnings.
// Agents and admins only; a viewer gets an explanation and no control.
import { api, ApiError, query } from '../api.js';
import { announce, clear, field, h, select } from '../dom.js';

const KIND_LABELS = { rejected: 'Rejected', warning: 'Warning', skipped: 'Skipped', updated: 'Updated' };

export async function renderImport(view, session) {
  if (!session.canWrite) {
    clear(view, h('h1', { text: 'Import customers' }),
      h('p', { text: 'Importing customers needs the agent or admin role.' }));
    return;
  }
  const file = h('input', { type: 'file', accept: '.csv,text/csv', required: true, 'aria-describedby': 'import-columns' });
  const strict = h('input', { type: 'checkbox', id: 'import-strict' });
  const existing = select([
    ['keep', 'Import it as another customer'],
    ['skip', 'Skip the row'],
    ['update', 'Update that customer'],
  ], 'keep');
  const submit = h('button', { type: 'submit', text: 'Import' });
  const result = h('div', { 'data-testid': 'import-result' });

  const form = h('form', { class: 'panel', onsubmit: async (e) => {
    e.preventDefault();
    const f = file.files[0];
    if (!f) {
      announce('Choose a CSV file first.', 'error');
      file.focus();
      return;
    }
    submit.disabled = true;
    announce(`Importing ${f.name}…`);
    clear(result);
    try {
      const params = { strict: strict.checked ? 'true' : undefined,
        on_existing_email: existing.value === 'keep' ? undefined : existing.value };
      const report = await api('POST', `/v1/customers/import${query(params)}`, { raw: f, contentType: 'text/csv' });
      drawResult(result, f.name, report);
      announce(`Imported ${report.imported} of ${report.rows} rows; ${report.rejected} rejected, `
        + `${report.warnings} warning${report.warnings === 1 ? '' : 's'}.`, report.rejected ? 'error' : 'info');
      result.querySelector('h2')?.focus();
    } catch (err) {
      let text = err instanceof ApiError ? err.describe() : err.message;
      if (err instanceof ApiError && err.status === 413) text = `The file is larger than the server accepts. ${text}`;
      clear(result, h('p', { class: 'error', role: 'alert', 'data-testid': 'import-error', text }));
      announce('The file was not imported.', 'error');
    } finally {
      submit.disabled = false;
    }
  } },
  h('h2', { text: 'Upload a CSV file' }),
  field('CSV file', file),
  h('p', { class: 'hint', id: 'import-columns' },
    'A header row, then one customer per row. Known columns: external_id, name, email, phone, address, notes, ',
    'tags (separated by ; , or |), lifecycle_stage; any other column is kept in the customer\'s attributes. ',
    'Each row needs a name, email, phone or external_id. A file from Export CSV imports back unchanged.'),
  h('div', { class: 'inline' },
    h('div', { class: 'check' }, strict,
      h('label', { for: 'import-strict', text: 'Reject rows with an invalid email or phone (instead of a warning)' })),
    field('When the email already belongs to a customer', existing)),
  h('div', { class: 'actions' }, submit));

  clear(view, h('h1', { text: 'Import customers' }), form, result);
}

function drawResult(slot, name, r) {
  const figure = (label, value, id) => h('div', { class: 'figure' },
    h('dt', { text: label }), h('dd', { 'data-testid': id, text: String(value) }));
  const rows = r.messages.map((m) => h('tr', { 'data-testid': 'import-message', 'data-line': m.line },
    h('td', { class: 'num', text: String(m.line) }),
    h('td', {}, h('span', { class: `badge import-${m.kind}`, text: KIND_LABELS[m.kind] || m.kind })),
    h('td', {}, m.message, m.customer_id ? [' (', h('a', { href: `#/customers/${m.customer_id}`, text: 'open' }), ')'] : null)));
  clear(slot, h('section', { class: 'panel', 'aria-labelledby': 'import-result-h' },
    h('h2', { id: 'import-result-h', tabindex: -1, text: `Result: ${name}` }),
    h('dl', { class: 'figures' },
      figure('Rows read', r.rows, 'import-rows'),
      figure('Imported', r.imported, 'import-imported'),
      figure('Rejected', r.rejected, 'import-rejected'),
      figure('Warnings', r.warnings, 'import-warnings'),
      r.skipped ? figure('Skipped (email held)', r.skipped, 'import-skipped') : null,
      r.updated ? figure('Updated (email held)', r.updated, 'import-updated') : null),
    r.messages.length ? h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-labelledby': 'import-msgs' },
      h('table', {}, h('caption', { id: 'import-msgs', text: 'Messages by line of the file (the header is line 1)' }),
        h('thead', {}, h('tr', {}, ['Line', 'Kind', 'Message'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, rows)))
      : h('p', { class: 'hint', text: 'Every row was imported as it was.' }),
    r.messages_truncated ? h('p', { class: 'hint', text: 'Only the first 1000 messages are listed; the counts are complete.' }) : null,
    h('p', {}, h('a', { href: '#/customers', text: 'Back to customers' }))));
}
