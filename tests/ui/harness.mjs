// Shared by the setup and the specs: the server the setup started and the CLI
// pointed at the same database.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const stateFile = process.env.TRADESPHERE_UI_STATE || '/tmp/tradesphere-ui-state.json';
export const repoRoot = path.resolve(here, '..', '..');

export function state() {
  return JSON.parse(readFileSync(stateFile, 'utf8'));
}

// Runs `tradesphere <args>` against the ui database; returns stdout.
export function cli(args, s = state()) {
  return execFileSync(s.bin, ['--data-dir', s.dataDir, ...args], { env: { ...process.env, ...s.env }, encoding: 'utf8' });
}

export function consoleLink(user, role, s = state()) {
  const out = cli(['console-link', '--company', s.company, '--user', user, '--role', role, '--url', s.baseURL], s);
  const m = out.match(/https?:\/\/\S+\/console\/login\?code=[0-9a-f]{64}/);
  if (!m) throw new Error(`console-link printed no link: ${out}`);
  return m[0];
}

// The /v1 API with the setup's admin bearer token (fixtures and checks, not the UI).
export async function apiAsAdmin(method, urlPath, body, headers = {}) {
  const s = state();
  const res = await fetch(s.baseURL + urlPath, {
    method,
    headers: { Authorization: `Bearer ${s.adminToken}`, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
}
