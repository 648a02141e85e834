// The operator console end to end: sign-in link, search, edit with a version
// conflict, a duplicates review that merges with a chosen field and undoes it,
// the merge history, the overview's figures, a viewer without write controls, the CSV export of the
// filtered list, a foreign Origin refused, sign-out. Screenshots for docs/console.md; axe-core on each screen.
import { readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { test, expect } from '@playwright/test';
import { apiAsAdmin, cli, consoleLink, repoRoot, state } from './harness.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
// docs/console/ holds the committed screenshots; a normal run writes its own next to
// the test results so that running the tests leaves the work tree clean. Refresh the
// docs with TRADESPHERE_UI_SCREENSHOTS=docs/console (relative to the repository).
const shots = path.resolve(repoRoot, process.env.TRADESPHERE_UI_SCREENSHOTS ||
  path.join(process.env.TRADESPHERE_UI_OUTPUT_DIR || '/tmp/tradesphere-ui-results', 'screenshots'));
mkdirSync(shots, { recursive: true });

test.describe.configure({ mode: 'serial' });

async function signIn(page, user, role) {
  await page.goto(consoleLink(user, role));
  await expect(page.getByRole('heading', { level: 1, name: 'Customers' })).toBeVisible();
  await expect(page.getByTestId('who')).toHaveText(`${user} · ${role}`);
  expect(page.url()).not.toContain('code=');
}

// No serious or critical accessibility violation (axe-core, evaluated through the
// DevTools protocol: the page's CSP forbids injected scripts, rightly).
async function expectAccessible(page, screen) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  expect(bad, `${screen}: accessibility violations`).toEqual([]);
}

async function customerByName(name) {
  const r = await apiAsAdmin('GET', `/v1/customers?q=${encodeURIComponent(name)}&limit=10`);
  return r.json.items.find((c) => c.name === name);
}

test('a console link signs in once; search as you type highlights matches', async ({ page }) => {
  const link = consoleLink('alice', 'admin');
  await page.goto(link);
  await expect(page.getByRole('heading', { level: 1, name: 'Customers' })).toBeVisible();
  await expect(page.getByTestId('who')).toHaveText('alice · admin');
  await expect(page.getByTestId('count')).toHaveText(/5 customers/);
  await page.screenshot({ path: path.join(shots, 'customers.png') });
  await expectAccessible(page, 'customers');

  await page.getByLabel('Search').fill('zeld');
  await expect(page.getByTestId('count')).toHaveText('1 customer');
  await expect(page.locator('tbody mark').first()).toHaveText(/zeld/i);
  await expect(page.getByRole('link', { name: 'Zelda Quartermain' })).toBeVisible();
  await page.getByLabel('Search').fill('');
  await expect(page.getByTestId('count')).toHaveText(/5 customers/);

  // The link was used: a second browser gets the refusal.
  const other = await page.context().browser().newPage();
  await other.goto(link);
  await expect(other.locator('#login-status')).toHaveText(/invalid, already used or expired/);
  await other.close();
});

test('the overview shows the figures of the company (keyboard, 1280 and 390 px)', async ({ page }) => {
  // Reading the duplicates scores the queued customers: Jonathan Smith and Jon Smith are a pair.
  const groups = (await apiAsAdmin('GET', '/v1/duplicates')).json.total_groups;
  expect(groups).toBeGreaterThanOrEqual(1);
  // A chat row stored while the sync is paused: an open sync failure and an orphaned row.
  cli(['sync', 'pause', '--company', state().company]);
  try {
    const paused = await apiAsAdmin('POST', '/v1/chat', { session_id: 'ui-paused-1', tech_id: 'widget-1',
      customer_email: 'paused@example.com', user_message: 'Anyone there?', ai_response: 'Yes' });
    expect(paused.status).toBe(200);
    const expected = (await apiAsAdmin('GET', '/v1/overview')).json;

    await page.setViewportSize({ width: 1280, height: 800 });
    await signIn(page, 'victor', 'viewer');
    await page.getByRole('link', { name: 'Overview' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Overview' })).toHaveAttribute('aria-current', 'page');
    // global-setup: 5 customers (Ada a lead), 3 chat rows today in 2 conversations (one orphaned)
    await expect(page.getByTestId('overview-customers-total')).toHaveText('5');
    const stages = page.getByRole('table', { name: 'Active customers by lifecycle stage' });
    await expect(stages).toBeVisible();
    await expect(page.getByTestId('overview-stage-prospect-count')).toHaveText('4');
    await expect(page.getByTestId('overview-stage-lead-count')).toHaveText('1');
    await expect(page.getByTestId('overview-stage-customer-count')).toHaveText('0');
    await expect(page.getByTestId('overview-stage-churned-count')).toHaveText('0');
    await expect(page.getByTestId('overview-messages-today')).toHaveText('4');
    await expect(page.getByTestId('overview-conversations-started')).toHaveText('3');
    await expect(page.getByTestId('overview-conversations-active')).toHaveText('3');
    await expect(page.getByTestId('overview-sync-failures')).toHaveText('1');
    await expect(page.getByTestId('overview-sync-failures-paused')).toHaveText('1');
    await expect(page.getByTestId('overview-sync-failures-error')).toHaveText('0');
    await expect(page.getByTestId('overview-orphaned')).toHaveText('2');
    // the duplicate figures are the API's (the model decides the pairs)
    expect(expected.duplicates.open_pairs).toBeGreaterThanOrEqual(1);
    await expect(page.getByTestId('overview-duplicate-pairs')).toHaveText(String(expected.duplicates.open_pairs));
    await expect(page.getByTestId('overview-duplicate-customers'))
      .toHaveText(String(expected.duplicates.customers_in_pairs));
    await expect(page.getByTestId('overview-duplicate-rate'))
      .toHaveText(`${Math.round(expected.duplicates.customers_in_pairs / 5 * 1000) / 10}%`);
    await expect(page.getByTestId('overview-as-of')).toContainText('UTC');
    await page.screenshot({ path: path.join(shots, 'overview.png'), fullPage: true });
    await expectAccessible(page, 'overview');

    // Keyboard: Refresh is reachable and reads the figures again.
    await page.getByRole('button', { name: 'Refresh' }).focus();
    await page.keyboard.press('Enter');
    await expect(page.locator('#status')).toHaveText('Overview refreshed.');
    await expect(page.getByRole('button', { name: 'Refresh' })).toBeFocused();
    await page.getByRole('link', { name: /chat rows without a customer/ }).focus();
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { level: 1, name: 'Conversations without a customer' })).toBeVisible();

    // 390 px: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Overview' }).click();
    await expect(page.getByTestId('overview-customers-total')).toHaveText('5');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(shots, 'phone-overview.png'), fullPage: true });
    await expectAccessible(page, 'overview (phone)');
  } finally {
    cli(['sync', 'resume', '--company', state().company]);
  }
});

test('edit a customer, and a conflicting edit is shown and can be reapplied', async ({ page }) => {
  await signIn(page, 'alice', 'admin');
  await page.getByRole('link', { name: 'Grace Hopper' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Grace Hopper' })).toBeVisible();

  await page.getByRole('button', { name: 'Edit details' }).click();
  await page.getByLabel('Address').fill('Arlington, VA');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('dd[data-field="address"]')).toHaveText('Arlington, VA');
  expect((await customerByName('Grace Hopper')).address).toBe('Arlington, VA');

  // Someone else renames her while we edit the phone.
  await page.getByRole('button', { name: 'Edit details' }).click();
  await page.getByLabel('Phone').fill('+1 415 555 0177');
  const grace = await customerByName('Grace Hopper');
  const other = await apiAsAdmin('PATCH', `/v1/customers/${grace.id}`, { name: 'Rear Admiral Grace Hopper' },
    { 'If-Match': `"${grace.version}"` });
  expect(other.status).toBe(200);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const conflict = page.getByTestId('conflict');
  await expect(conflict).toContainText('Someone else changed this customer');
  await expect(conflict.getByRole('row', { name: /^name/ })).toContainText('Rear Admiral Grace Hopper');
  await expect(conflict.getByRole('row', { name: /^phone/ })).toContainText('+1 415 555 0177');
  await page.screenshot({ path: path.join(shots, 'customer-conflict.png'), fullPage: true });
  await conflict.getByRole('button', { name: 'Reapply my changes' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Rear Admiral Grace Hopper' })).toBeVisible();
  const after = await customerByName('Rear Admiral Grace Hopper');
  expect(after.phone.replace(/\D/g, '')).toContain('4155550177');
  expect(after.address).toBe('Arlington, VA');

  // Stage, tags and notes.
  await page.getByLabel('Lifecycle stage').selectOption('customer');
  await page.getByRole('button', { name: 'Set stage' }).click();
  await expect(page.getByTestId('stage-badge')).toHaveText('customer');
  await page.getByLabel('Add tags (comma-separated)').fill('speaker, cobol');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(page.getByTestId('tags')).toContainText('speaker');
  await page.getByRole('textbox', { name: 'Notes', exact: true }).fill('Invented the first compiler.');
  await page.getByRole('button', { name: 'Save notes' }).click();
  await expect(page.locator('#status')).toHaveText('Notes saved.');
  const final = await customerByName('Rear Admiral Grace Hopper');
  expect(final.lifecycle_stage).toBe('customer');
  expect(final.tags).toEqual(expect.arrayContaining(['speaker', 'cobol', 'navy']));
  expect(final.notes).toBe('Invented the first compiler.');
  await page.screenshot({ path: path.join(shots, 'customer.png'), fullPage: true });
  await expectAccessible(page, 'customer');
});

test('a duplicates review merges two customers with a chosen field, then undoes it', async ({ page }) => {
  // The queue worker scores new customers every 2 s.
  await expect.poll(async () => (await apiAsAdmin('GET', '/v1/duplicates')).json.items.length, { timeout: 20_000 })
    .toBeGreaterThan(0);
  await signIn(page, 'alice', 'admin');
  await page.getByRole('link', { name: 'Duplicates' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Duplicates' })).toBeVisible();
  const group = page.getByTestId('duplicate-group').filter({ hasText: 'Jon Smith' });
  await expect(group).toBeVisible();
  await group.getByRole('button', { name: /^Review/ }).click();
  const preview = page.getByTestId('merge-preview');
  await expect(preview).toBeVisible();
  const choice = preview.getByRole('radio', { name: 'Jonathan Smith', exact: true });
  await choice.check();
  await expect(choice).toBeChecked();
  await page.screenshot({ path: path.join(shots, 'duplicates-review.png'), fullPage: true });
  await expectAccessible(page, 'duplicates');

  await page.getByRole('button', { name: 'Merge', exact: true }).click();
  await expect(page.getByTestId('merge-result')).toContainText('Merged into');
  const merges = (await apiAsAdmin('GET', '/v1/merges')).json.items;
  expect(merges[0].status).toBe('applied');
  const kept = (await apiAsAdmin('GET', `/v1/customers/${merges[0].target_id}`)).json;
  expect(kept.name).toBe('Jonathan Smith');
  expect((await apiAsAdmin('GET', `/v1/customers/${merges[0].source_ids[0]}`)).status).toBe(404);

  await page.getByRole('button', { name: 'Undo merge' }).click();
  await expect(page.getByTestId('merge-result')).toContainText('Merge undone');
  expect((await apiAsAdmin('GET', `/v1/merges/${merges[0].merge_id}`)).json.status).toBe('undone');
  expect((await apiAsAdmin('GET', `/v1/customers/${merges[0].source_ids[0]}`)).status).toBe(200);

  await page.getByRole('link', { name: 'Merge history' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Merge history' })).toBeVisible();
  await expect(page.getByTestId('merge-row').first()).toContainText('undone');
  await page.screenshot({ path: path.join(shots, 'merge-history.png') });
  await expectAccessible(page, 'merge history');
});

test('an unlinked conversation is linked to a customer found by search', async ({ page }) => {
  await signIn(page, 'olga', 'agent');
  await page.getByRole('link', { name: 'Unlinked chats' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Conversations without a customer' })).toBeVisible();
  const orphan = page.getByTestId('orphan').filter({ hasText: 'ui-orphan-1' });
  await expect(orphan).toContainText('Is the shop open on Sundays?');
  await page.screenshot({ path: path.join(shots, 'unlinked-chats.png') });
  await expectAccessible(page, 'unlinked chats');
  await orphan.getByLabel('Find a customer for ui-orphan-1').fill('zelda');
  await orphan.getByRole('button', { name: 'Link to Zelda Quartermain' }).click();
  await expect(page.locator('#status')).toHaveText('Linked to Zelda Quartermain.');
  await expect(page.getByTestId('orphan').filter({ hasText: 'ui-orphan-1' })).toHaveCount(0);
  const zelda = await customerByName('Zelda Quartermain');
  const conversations = (await apiAsAdmin('GET', `/v1/customers/${zelda.id}/conversations`)).json.items;
  expect(conversations.map((c) => c.session_id)).toContain('ui-orphan-1');
});

test('a viewer sees no write control', async ({ page }) => {
  await signIn(page, 'victor', 'viewer');
  await expect(page.getByText('New customer')).toHaveCount(0);
  await expect(page.getByRole('checkbox')).toHaveCount(0);
  await page.getByRole('link', { name: 'Zelda Quartermain' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Zelda Quartermain' })).toBeVisible();
  await expect(page.getByTestId('tags')).toContainText('vip');
  for (const name of ['Edit details', 'Set stage', 'Add', 'Save notes', 'Delete customer', 'Enrich from conversations']) {
    await expect(page.getByRole('button', { name, exact: true })).toHaveCount(0);
  }
  await expect(page.getByRole('button', { name: /Remove tag/ })).toHaveCount(0);
  await expect(page.getByLabel('Lifecycle stage')).toBeDisabled();
  await page.getByRole('link', { name: 'Duplicates' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Duplicates' })).toBeVisible();
  const review = page.getByRole('button', { name: /^Review/ }).first();
  if (await review.count()) {
    await review.click();
    await expect(page.getByText('Merging needs the admin role.')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Merge', exact: true })).toHaveCount(0);
    await expect(page.getByRole('button', { name: /Not a duplicate/ })).toHaveCount(0);
  }
  await page.getByRole('link', { name: 'Merge history' }).click();
  await expect(page.getByTestId('merge-row').first()).toBeVisible();
  await expect(page.getByRole('button', { name: /^Undo/ })).toHaveCount(0);
});

test('Export CSV carries the current filters and downloads that list (keyboard, viewer)', async ({ page }) => {
  await signIn(page, 'victor', 'viewer');
  const link = page.getByRole('link', { name: 'Export CSV' });
  await expect(link).toHaveAttribute('href', '/v1/customers/export?sort=created_at&order=desc');
  await page.getByLabel('Search').fill('zeld');
  await expect(page.getByTestId('count')).toHaveText('1 customer');
  await page.getByLabel('Sort by').selectOption('name');
  await page.getByLabel('Order').selectOption('asc');
  await expect(link).toHaveAttribute('href', '/v1/customers/export?q=zeld&sort=name&order=asc');

  await link.focus();
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  expect(download.suggestedFilename()).toMatch(/^customers-\d{4}-\d{2}-\d{2}\.csv$/);
  const lines = readFileSync(await download.path(), 'utf8').split('\r\n');
  expect(lines[0]).toBe('id,external_id,name,email,phone,address,lifecycle_stage,tags,notes,source,created_at,'
    + 'updated_at,conversation_count,message_count,last_contact_at');
  expect(lines.at(-1)).toBe('');
  const listed = (await apiAsAdmin('GET', '/v1/customers?q=zeld&sort=name&order=asc&limit=1000')).json.items;
  expect(lines.slice(1, -1).map((l) => l.split(',')[0])).toEqual(listed.map((c) => c.id));
  expect(lines[1]).toContain('Zelda Quartermain');
});

test('a request with a foreign Origin is refused; sign-out ends the session', async ({ page }) => {
  await signIn(page, 'alice', 'admin');
  const base = state().baseURL;
  const forged = await page.context().request.post(`${base}/v1/customers`, {
    headers: { Origin: 'http://evil.example', 'Content-Type': 'application/json' },
    data: { name: 'Forged Customer' },
  });
  expect(forged.status()).toBe(403);
  expect(forged.headers()['content-type']).toBe('application/problem+json');
  expect(await customerByName('Forged Customer')).toBeUndefined();
  const own = await page.context().request.post(`${base}/v1/customers`, {
    headers: { Origin: base, 'Content-Type': 'application/json' },
    data: { name: 'Same Origin Customer' },
  });
  expect(own.status()).toBe(201);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Signed out' })).toBeVisible();
  expect((await page.context().request.get(`${base}/v1/me`)).status()).toBe(401);
  await page.goto(`${base}/console/`);
  await expect(page.getByRole('heading', { level: 1, name: 'Signed out' })).toBeVisible();
});

test('works on a 390 px wide phone', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  await signIn(page, 'alice', 'agent');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.getByLabel('Search').fill('lovelace');
  await expect(page.getByRole('link', { name: 'Ada Lovelace' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Zelda Quartermain' })).toHaveCount(0);
  await page.screenshot({ path: path.join(shots, 'phone-customers.png'), fullPage: true });
  await expectAccessible(page, 'customers (phone)');
  await context.close();
});
