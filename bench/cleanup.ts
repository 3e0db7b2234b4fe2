/*
 * Removes what an interrupted benchmark left on the PostgreSQL server:
 * databases nhi_bench_<tag>_<pid>_* and login roles nhi_b2_<pid>_* whose
 * process is gone. Run by bench/run.mjs before the PostgreSQL benchmarks.
 */
import { log } from './lib/common';
import { dropStaleBenchDatabases, pgAdmin } from './lib/db';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main() {
  const dropped = await dropStaleBenchDatabases();
  const admin = pgAdmin();
  try {
    const roles = await admin('pg_roles')
      .where('rolname', 'like', 'nhi\\_b2\\_%')
      .select('rolname');
    for (const { rolname } of roles) {
      const m = /^nhi_b2_(\d+)_/.exec(rolname);
      if (m && isAlive(Number(m[1]))) continue;
      await admin.raw(`DROP ROLE IF EXISTS ${rolname}`);
      dropped.push(`role ${rolname}`);
    }
  } finally {
    await admin.destroy();
  }
  if (dropped.length) log(`cleanup: dropped ${dropped.join(', ')}`);
  process.stdout.write('BENCH_JSON {"rows":[]}\n');
}

main().catch(error => {
  log(`cleanup failed: ${error}`);
  process.exit(1);
});
