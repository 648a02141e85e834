// The console shell: who is signed in, the hash router, sign-out.
import { api } from './api.js';
import { announce, clear, h } from './dom.js';
import { renderCustomers } from './screens/customers.js';
import { renderCustomer } from './screens/customer.js';
import { renderDuplicates } from './screens/duplicates.js';
import { renderImport } from './screens/import.js';
import { renderMerges } from './screens/merges.js';
import { renderOrphans } from './screens/orphans.js';
import { renderOverview } from './screens/overview.js';

const view = document.getElementById('view');
let session = null;

const routes = [
  [/^#\/customers\/([0-9a-fA-F-]{36})$/, (m) => renderCustomer(view, session, m[1]), 'customers'],
  [/^#\/customers$/, () => renderCustomers(view, session), 'customers'],
  [/^#\/duplicates$/, () => renderDuplicates(view, session), 'duplicates'],
  [/^#\/merges$/, () => renderMerges(view, session), 'merges'],
  [/^#\/orphans$/, () => renderOrphans(view, session), 'orphans'],
  [/^#\/overview$/, () => renderOverview(view, session), 'overview'],
  [/^#\/import$/, () => renderImport(view, session), 'import'],
];

function showSignedOut(message) {
  session = null;
  document.getElementById('who').textContent = '';
  document.getElementById('sign-out').hidden = true;
  document.body.classList.add('signed-out');
  clear(view,
    h('h1', { text: 'Signed out' }),
    h('p', { text: message }),
    h('p', { class: 'hint' }, 'Ask an administrator for a new sign-in link (',
      h('code', { text: 'tradesphere console-link' }), ').'));
}

async function route() {
  if (!session) return;
  const hash = location.hash || '#/customers';
  for (const [re, render, nav] of routes) {
    const m = hash.match(re);
    if (!m) continue;
    for (const a of document.querySelectorAll('[data-nav]')) {
      if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    announce('');
    try {
      await render(m);
    } catch (e) {
      if (session) clear(view, h('h1', { text: 'Something went wrong' }), h('p', { class: 'error', text: e.message }));
    }
    const heading = view.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
    return;
  }
  location.hash = '#/customers';
}

async function start() {
  window.addEventListener('console:signed-out', () => showSignedOut('Your session has ended or was signed out.'));
  try {
    const me = await api('GET', '/v1/me');
    session = {
      ...me,
      canWrite: me.role === 'agent' || me.role === 'admin',
      isAdmin: me.role === 'admin',
    };
  } catch {
    showSignedOut('You are not signed in.');
    return;
  }
  document.body.dataset.role = session.role;
  // links to screens that only write (Import) are shown to agents and admins only
  for (const li of document.querySelectorAll('[data-requires-write]')) li.hidden = !session.canWrite;
  document.getElementById('who').textContent = `${session.user_id} · ${session.role}`;
  const signOut = document.getElementById('sign-out');
  signOut.hidden = false;
  signOut.addEventListener('click', async () => {
    await fetch('/console/logout', { method: 'POST', credentials: 'same-origin' });
    showSignedOut('You signed out.');
  });
  window.addEventListener('hashchange', route);
  await route();
}

start();
