// The /v1 API through the session cookie (never a token in script-readable storage).
// Errors arrive as RFC 9457 problem+json and are thrown as ApiError.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
  // "field: reason" lines of a validation problem, else the detail.
  describe() {
    const errors = this.problem.errors || [];
    if (errors.length) return errors.map((e) => `${e.field}: ${e.reason}`).join('; ');
    return this.message;
  }
}

// `raw` sends a Blob/File or string as is, with `contentType` (the CSV import).
export async function api(method, path, { body, raw, contentType, ifMatch, headers = {} } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  } else if (raw !== undefined) {
    init.headers['Content-Type'] = contentType;
    init.body = raw;
  }
  if (ifMatch !== undefined && ifMatch !== null) init.headers['If-Match'] = `"${ifMatch}"`;
  const res = await fetch(path, init);
  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { detail: text };
      }
    }
  }
  if (!res.ok) {
    if (res.status === 401) window.dispatchEvent(new CustomEvent('console:signed-out'));
    throw new ApiError(res.status, data || {});
  }
  return data;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function idempotencyKey(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
