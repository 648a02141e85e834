// Stops the server and drops the ui database.
import { execFileSync } from 'node:child_process';
import { existsSync, unlinkSync } from 'node:fs';
import { state, stateFile } from './harness.mjs';

export default async function globalTeardown() {
  if (!existsSync(stateFile)) return;
  const s = state();
  try {
    process.kill(s.serverPid, 'SIGTERM');
  } catch {
    // already gone
  }
  for (let i = 0; i < 50; i += 1) {
    try {
      process.kill(s.serverPid, 0);
      await new Promise((r) => setTimeout(r, 100));
    } catch {
      break;
    }
  }
  try {
    execFileSync('psql', [s.ownerMaintenance, '-qc', `DROP DATABASE IF EXISTS ${s.dbName} WITH (FORCE)`]);
  } catch (e) {
    console.error(`could not drop ${s.dbName}: ${e.message}`);
  }
  unlinkSync(stateFile);
}
