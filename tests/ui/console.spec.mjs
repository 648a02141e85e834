// The operator console end to end: sign-in link, search, edit with a version
// conflict, a duplicates review that merges with a chosen field and undoes it,
// the merge history, the overview's figures, a viewer without write controls, the CSV export of the
// filtered list, a foreign Origin refused, sign-out; a conversation's messages (paged, keyboard),
// stage/notes/delete conflicts with a second writer and Reapply, the CSV import with line-numbered
// rejects, role gating. Screenshots for docs/console.md; axe-core on each screen.
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

test('an agent creates a customer; an email another customer holds is refused with a link to it', async ({ page }) => {
  await signIn(page, 'alice', 'admin');
  await page.getByText('New customer').click();
  await page.getByLabel('Name').fill('Hedy Lamarr');
  await page.getByLabel('Email').fill('hedy.lamarr@example.org');
  await page.getByLabel('Phone').fill('+44 20 7946 0018');
  await page.getByRole('button', { name: 'Create customer' }).press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Hedy Lamarr' })).toBeVisible();
  const hedy = await customerByName('Hedy Lamarr');
  expect(hedy.email).toBe('hedy.lamarr@example.org');

  // the same email again, re-cased and padded: one email, one customer
  await page.getByRole('link', { name: 'Customers', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Customers' })).toBeVisible();
  await page.getByText('New customer').click();
  await page.getByLabel('Name').fill('H. Lamarr');
  await page.getByLabel('Email').fill(' HEDY.Lamarr@example.org');
  await page.getByRole('button', { name: 'Create customer' }).click();
  const refusal = page.getByRole('alert').filter({ hasText: 'That email belongs to' });
  await expect(refusal).toBeVisible();
  await refusal.getByRole('link', { name: 'another customer' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Hedy Lamarr' })).toBeVisible();
  await expectAccessible(page, 'customer-created');
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

test('a conversation opens its messages, paged, with the keyboard (viewer)', async ({ page }) => {
  // 25 messages in one conversation of Ada Lovelace: a first page of 20, then 5 more.
  const rows = Array.from({ length: 25 }, (_, i) => ({
    session_id: 'ui-long', tech_id: 'widget-1', customer_email: 'ada@example.com',
    user_message: `Question ${i + 1}`, ai_response: `Answer ${i + 1}`,
    created_at: `2026-11-02T10:${String(i).padStart(2, '0')}:00Z`,
  }));
  expect((await apiAsAdmin('POST', '/v1/chat', rows)).status).toBe(200);

  await signIn(page, 'victor', 'viewer');
  await page.getByRole('link', { name: 'Ada Lovelace' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Ada Lovelace' })).toBeVisible();
  const conversation = page.getByTestId('conversation').filter({ hasText: 'ui-long' });
  await expect(conversation).toContainText('25 messages');
  const toggle = conversation.getByRole('button', { name: 'Show 25 messages of ui-long' });
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(conversation.getByTestId('message')).toHaveCount(0);

  await toggle.focus();
  await page.keyboard.press('Enter');
  const hide = conversation.getByRole('button', { name: 'Hide messages of ui-long' });
  await expect(hide).toHaveAttribute('aria-expanded', 'true');
  const messages = conversation.getByRole('list', { name: 'Messages of ui-long' }).getByTestId('message');
  await expect(messages).toHaveCount(20);
  await expect(messages.first()).toContainText('Customer: Question 1');
  await expect(messages.first()).toContainText('Assistant: Answer 1');
  await expect(messages.nth(19)).toContainText('Question 20');
  await expect(conversation.getByTestId('messages-progress')).toHaveText('Showing 20 of 25 messages.');
  await page.screenshot({ path: path.join(shots, 'customer-messages.png'), fullPage: true });
  await expectAccessible(page, 'customer with messages');

  // Tab reaches "Show more messages"; Enter loads the rest and moves on to the first new message.
  await page.keyboard.press('Tab');
  const more = conversation.getByRole('button', { name: 'Show more messages of ui-long' });
  await expect(more).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(messages).toHaveCount(25);
  await expect(messages.nth(24)).toContainText('Customer: Question 25');
  await expect(conversation.getByTestId('messages-progress')).toHaveText('All 25 messages.');
  await expect(more).toBeHidden();
  await expect(messages.nth(20)).toBeFocused();

  // Enter on the toggle closes it again.
  await hide.focus();
  await page.keyboard.press('Enter');
  await expect(conversation.getByRole('button', { name: 'Show 25 messages of ui-long' }))
    .toHaveAttribute('aria-expanded', 'false');
  await expect(messages.first()).toBeHidden();
});

test('a stage or notes change that conflicts with a second writer shows both and can be reapplied', async ({ page }) => {
  await signIn(page, 'olga', 'agent');
  await page.getByRole('link', { name: 'Ada Lovelace' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Ada Lovelace' })).toBeVisible();

  // Stage: we choose "customer" while someone else sets "churned".
  let ada = await customerByName('Ada Lovelace');
  const stageWriter = await apiAsAdmin('PUT', `/v1/customers/${ada.id}/stage`, { lifecycle_stage: 'churned' },
    { 'If-Match': `"${ada.version}"` });
  expect(stageWriter.status).toBe(200);
  const theirStageVersion = stageWriter.json.version;
  await page.getByLabel('Lifecycle stage').selectOption('customer');
  await page.getByRole('button', { name: 'Set stage' }).click();
  let conflict = page.getByTestId('conflict');
  await expect(conflict).toContainText('Someone else changed this customer');
  await expect(conflict).toContainText(`now version ${theirStageVersion}`);
  const stageRow = conflict.getByRole('row', { name: /^lifecycle_stage/ });
  await expect(stageRow.getByRole('cell')).toHaveText(['lead', 'churned', 'customer']);
  await expect(conflict).toBeFocused();
  await page.screenshot({ path: path.join(shots, 'customer-stage-conflict.png'), fullPage: true });
  await expectAccessible(page, 'customer (stage conflict)');
  await conflict.getByRole('button', { name: 'Reapply my changes' }).click();
  await expect(page.getByTestId('stage-badge')).toHaveText('customer');
  await expect(page.getByTestId('conflict')).toHaveCount(0);
  ada = await customerByName('Ada Lovelace');
  expect(ada.lifecycle_stage).toBe('customer');
  expect(ada.version).toBe(theirStageVersion + 1);

  // Notes: ours and theirs differ; Reapply saves ours on top of their version.
  await page.getByRole('textbox', { name: 'Notes', exact: true }).fill('Mine: call after 5 pm.');
  const notesWriter = await apiAsAdmin('PUT', `/v1/customers/${ada.id}/notes`, { notes: 'Theirs: prefers email.' },
    { 'If-Match': `"${ada.version}"` });
  expect(notesWriter.status).toBe(200);
  await page.getByRole('button', { name: 'Save notes' }).click();
  conflict = page.getByTestId('conflict');
  const notesRow = conflict.getByRole('row', { name: /^notes/ });
  await expect(notesRow.getByRole('cell')).toHaveText(['—', 'Theirs: prefers email.', 'Mine: call after 5 pm.']);
  await conflict.getByRole('button', { name: 'Reapply my changes' }).click();
  await expect(page.locator('#status')).toHaveText('Notes saved.');
  await expect(page.getByRole('textbox', { name: 'Notes', exact: true })).toHaveValue('Mine: call after 5 pm.');
  ada = await customerByName('Ada Lovelace');
  expect(ada.notes).toBe('Mine: call after 5 pm.');
  expect(ada.version).toBe(notesWriter.json.version + 1);

  // Discard keeps the other change and shows it.
  const again = await apiAsAdmin('PUT', `/v1/customers/${ada.id}/stage`, { lifecycle_stage: 'lead' },
    { 'If-Match': `"${ada.version}"` });
  expect(again.status).toBe(200);
  await page.getByLabel('Lifecycle stage').selectOption('churned');
  await page.getByRole('button', { name: 'Set stage' }).click();
  await page.getByTestId('conflict').getByRole('button', { name: 'Discard mine' }).click();
  await expect(page.getByTestId('stage-badge')).toHaveText('lead');
  await expect(page.getByLabel('Lifecycle stage')).toHaveValue('lead');
  expect((await customerByName('Ada Lovelace')).lifecycle_stage).toBe('lead');
});

test('importing a CSV shows the counts and the line-numbered rejects and warnings', async ({ page }) => {
  await signIn(page, 'olga', 'agent');
  await page.getByRole('link', { name: 'Import', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Import customers' })).toBeVisible();
  await page.getByLabel('CSV file').setInputFiles({
    name: 'people.csv', mimeType: 'text/csv',
    buffer: Buffer.from('name,email,phone,lifecycle_stage\r\n'
      + 'Imported One,one@import.example,,lead\r\n'      // line 2
      + 'Imported Two,not-an-email,,prospect\r\n'        // line 3: warning (email kept in attributes)
      + 'Imported Three,three@import.example,,bogus\r\n' // line 4: rejected
      + 'Imported Four,four@import.example\r\n'),        // line 5: rejected (2 fields)
  });
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const result = page.getByTestId('import-result');
  await expect(result.getByRole('heading', { name: 'Result: people.csv' })).toBeFocused();
  await expect(page.getByTestId('import-rows')).toHaveText('4');
  await expect(page.getByTestId('import-imported')).toHaveText('2');
  await expect(page.getByTestId('import-rejected')).toHaveText('2');
  await expect(page.getByTestId('import-warnings')).toHaveText('1');
  const lines = page.getByTestId('import-message');
  await expect(lines).toHaveCount(3);
  await expect(lines.nth(0).getByRole('cell')).toHaveText(['3', 'Warning', /invalid email "not-an-email"/]);
  await expect(lines.nth(1).getByRole('cell')).toHaveText(['4', 'Rejected', /lifecycle_stage: 'bogus'/]);
  await expect(lines.nth(2).getByRole('cell')).toHaveText(['5', 'Rejected', /expected 4 fields, got 2/]);
  await expect(page.locator('#status')).toHaveText('Imported 2 of 4 rows; 2 rejected, 1 warning.');
  await page.screenshot({ path: path.join(shots, 'import.png'), fullPage: true });
  await expectAccessible(page, 'import');

  expect((await customerByName('Imported One')).lifecycle_stage).toBe('lead');
  expect((await customerByName('Imported Two')).attributes.invalid_email).toBe('not-an-email');
  expect(await customerByName('Imported Three')).toBeUndefined();

  // A file whose header cannot be read: the reason, nothing imported.
  await page.getByLabel('CSV file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv',
    buffer: Buffer.from('name,Name\r\nA,B\r\n') });
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.getByTestId('import-error')).toContainText("file: header column 'name' appears twice");

  // 390 px: nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test('the role decides: a viewer sees no import or edit control, an agent no merge or undo', async ({ page }) => {
  await signIn(page, 'victor', 'viewer');
  await expect(page.getByRole('link', { name: 'Import', exact: true })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Import CSV' })).toHaveCount(0);
  await page.goto(`${state().baseURL}/console/#/import`);
  await expect(page.getByRole('heading', { level: 1, name: 'Import customers' })).toBeVisible();
  await expect(page.getByText('Importing customers needs the agent or admin role.')).toBeVisible();
  await expect(page.getByLabel('CSV file')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Import', exact: true })).toHaveCount(0);
  // The customer screen: messages can be read, nothing can be written.
  await page.goto(`${state().baseURL}/console/#/customers`);
  await page.getByRole('link', { name: 'Ada Lovelace' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Ada Lovelace' })).toBeVisible();
  await expect(page.getByRole('button', { name: /^Show \d+ messages? of ui-long$/ })).toBeVisible();
  for (const name of ['Edit details', 'Set stage', 'Save notes', 'Delete customer', 'Reapply my changes']) {
    await expect(page.getByRole('button', { name, exact: true })).toHaveCount(0);
  }
  await expect(page.getByLabel('Lifecycle stage')).toBeDisabled();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, 'olga', 'agent');
  await expect(page.getByRole('link', { name: 'Import', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Import CSV' })).toBeVisible();
  await page.getByRole('link', { name: 'Ada Lovelace' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Ada Lovelace' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Set stage' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Delete customer' })).toHaveCount(0);
  await page.getByRole('link', { name: 'Merge history' }).click();
  await expect(page.getByTestId('merge-row').first()).toBeVisible();
  await expect(page.getByRole('button', { name: /^Undo/ })).toHaveCount(0);
});

test('a delete that conflicts with a second writer shows the change and can be confirmed', async ({ page }) => {
  await signIn(page, 'alice', 'admin');
  await page.getByLabel('Search').fill('Imported One');
  await page.getByRole('link', { name: 'Imported One' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Imported One' })).toBeVisible();
  const one = await customerByName('Imported One');
  const other = await apiAsAdmin('PATCH', `/v1/customers/${one.id}`, { address: '2 Side St' },
    { 'If-Match': `"${one.version}"` });
  expect(other.status).toBe(200);
  await page.getByRole('button', { name: 'Delete customer' }).click();
  const conflict = page.getByTestId('conflict');
  await expect(conflict.getByRole('row', { name: /^address/ }).getByRole('cell')).toHaveText(['—', '2 Side St', '(unchanged)']);
  await expect(conflict.getByRole('row', { name: /^status/ }).getByRole('cell')).toHaveText(['active', 'active', 'deleted']);
  expect((await apiAsAdmin('GET', `/v1/customers/${one.id}`)).json.status).toBe('active');
  await conflict.getByRole('button', { name: 'Delete anyway' }).click();
  await expect(page.locator('#status')).toHaveText('Customer deleted.');
  await expect(page.getByText('This customer is deleted.')).toBeVisible();
  const gone = await apiAsAdmin('GET', `/v1/customers?q=${encodeURIComponent('Imported One')}`);
  expect(gone.json.items.find((c) => c.name === 'Imported One')).toBeUndefined();
});
