// Exchanges the one-time code in the URL for the session cookie, then opens the console.
// The code is removed from the address bar first (history, screenshots, shoulder surfing).
const status = document.getElementById('login-status');
const code = new URLSearchParams(location.search).get('code');
history.replaceState(null, '', '/console/login');

async function signIn() {
  if (!code) {
    status.textContent = 'This page needs a sign-in link. Ask an administrator for one.';
    return;
  }
  try {
    const res = await fetch('/console/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ code }),
    });
    if (res.ok) {
      location.replace('/console/#/customers');
      return;
    }
    const problem = await res.json().catch(() => ({}));
    status.textContent = problem.detail || 'This sign-in link is invalid, already used or expired.';
  } catch {
    status.textContent = 'The server could not be reached. Try the link again.';
  }
}
signIn();
