// Starts what the ui tier runs against: a fresh database in the test cluster
// (TRADESPHERE_TEST_DATA_DIR, as the pg/http tiers use), migrated, one company with
// seeded customers, and `tradesphere serve` on a free port.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { stateFile } from './harness.mjs';

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set (scripts/test sets it; see tests/ui/README.md)`);
  return v;
}

function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export default async function globalSetup() {
  const bin = required('TRADESPHERE_BIN');
  const dataDir = required('TRADESPHERE_TEST_DATA_DIR');
  const run = (args, env = {}) =>
    execFileSync(bin, ['--data-dir', dataDir, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim();

  const dbName = `ui_${randomBytes(6).toString('hex')}`;
  const ownerMaintenance = run(['db', 'url', '--admin', '--database', 'postgres']);
  execFileSync('psql', [ownerMaintenance, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE DATABASE ${dbName}`]);
  const env = {
    DATABASE_URL: withDatabase(run(['db', 'url']), dbName),
    DATABASE_ADMIN_URL: withDatabase(run(['db', 'url', '--admin']), dbName),
    TRADESPHERE_JWT_SECRET: randomBytes(24).toString('hex'),
    TRADESPHERE_LOG_LEVEL: 'warn',
  };
  run(['migrate', 'up'], env);
  const company = 'uitest';
  run(['company', 'add', company, '--name', 'UI Test Ltd'], env);
  const adminToken = run(['token', '--company', company, '--user', 'ui-seed', '--role', 'admin', '--ttl', '1h'], env)
    .split('\n').find((l) => l.startsWith('eyJ'));

  const server = spawn(bin, ['--data-dir', dataDir, 'serve', '--host', '127.0.0.1', '--port', '0', '--threads', '2'], {
    env: { ...process.env, ...env, TRADESPHERE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: false,
  });
  const baseURL = await new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${buffered.slice(-2000)}`)), 20_000);
    server.stderr.on('data', (chunk) => {
      buffered += chunk.toString();
      const m = buffered.match(/"event":"server_listening"[^\n]*"url":"(http:\/\/[^"]+)"|"url":"(http:\/\/[^"]+)"[^\n]*"event":"server_listening"/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] || m[2]);
      }
    });
    server.on('exit', (code) => reject(new Error(`server exited with ${code}: ${buffered.slice(-2000)}`)));
  });
  server.stderr.removeAllListeners('data');
  server.removeAllListeners('exit');
  server.stderr.resume();  // keep draining the access log
  server.unref();

  const s = { bin, dataDir, dbName, ownerMaintenance, env, company, adminToken, baseURL, serverPid: server.pid };
  writeFileSync(stateFile, JSON.stringify(s));
  process.env.TRADESPHERE_UI_BASE_URL = baseURL;

  // Customers the scenarios use.
  const post = async (body) => {
    const res = await fetch(`${baseURL}/v1/customers`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`seed failed: ${res.status} ${await res.text()}`);
    return res.json();
  };
  await post({ name: 'Zelda Quartermain', email: 'zelda@example.com', phone: '+1 415 555 0101', tags: ['vip'] });
  await post({ name: 'Ada Lovelace', email: 'ada@example.com', phone: '+1 415 555 0102', lifecycle_stage: 'lead' });
  await post({ name: 'Grace Hopper', email: 'grace@example.com', phone: '+1 415 555 0103', tags: ['navy'] });
  await post({ name: 'Jonathan Smith', email: 'jon.smith@example.com', phone: '+1 415 555 0199' });
  const chat = await fetch(`${baseURL}/v1/chat`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify([
      { session_id: 'ui-s1', tech_id: 'widget-1', customer_email: 'grace@example.com',
        user_message: 'Hello, can you send me the price list for the navy line?', ai_response: 'Of course! Sent to your email.' },
      { session_id: 'ui-s1', tech_id: 'widget-1', customer_email: 'grace@example.com',
        user_message: 'Thanks. Do you deliver to Arlington?', ai_response: 'Yes, within two days.' },
      // no contact details: stored without a customer (an "unlinked chat")
      { session_id: 'ui-orphan-1', tech_id: 'widget-1',
        user_message: 'Is the shop open on Sundays?', ai_response: 'Yes, from 10 to 4.' },
    ]),
  });
  if (chat.status !== 200) throw new Error(`chat seed failed: ${chat.status} ${await chat.text()}`);
  await post({ name: 'Jon Smith', email: 'jsmith@work.example', phone: '+1 (415) 555-0199', address: '1 Main St' });
  return async () => {};
}
