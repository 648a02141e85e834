// Small DOM helpers: elements are built with textContent only (no HTML strings).

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'selected') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// A labelled control: <div class="field"><label for=id>label</label>control</div>
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), control,
    hint ? h('span', { class: 'hint', text: hint }) : null);
}

export function select(options, value, props = {}) {
  return h('select', props, options.map(([v, label]) => h('option', { value: v, selected: v === value, text: label })));
}

// Accepts PostgreSQL text ("2026-01-02 03:04:05.123+00") and RFC 3339.
export function parseTime(text) {
  if (!text) return null;
  let s = String(text).replace(' ', 'T');
  s = s.replace(/([+-]\d\d)$/, '$1:00');
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function fmtTime(text) {
  const d = parseTime(text);
  if (!d) return text || '—';
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// Text with every case-insensitive occurrence of `term` wrapped in <mark>.
export function highlight(text, term) {
  const value = text ?? '';
  if (!term) return document.createTextNode(value || '—');
  const frag = document.createDocumentFragment();
  const lower = value.toLowerCase();
  const t = term.toLowerCase();
  let i = 0;
  for (;;) {
    const j = lower.indexOf(t, i);
    if (j < 0 || !t) break;
    if (j > i) frag.append(value.slice(i, j));
    frag.append(h('mark', { text: value.slice(j, j + t.length) }));
    i = j + t.length;
  }
  frag.append(value.slice(i) || (value ? '' : '—'));
  return frag;
}

export function announce(message, kind = 'info') {
  const status = document.getElementById('status');
  if (!status) return;
  status.className = `status ${kind}`;
  status.textContent = message;
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export const STAGES = ['prospect', 'lead', 'customer', 'churned'];

export function shortId(id) {
  return id ? id.slice(0, 8) : '';
}
