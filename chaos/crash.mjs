#!/usr/bin/env node
/*
 * Crash-anywhere chaos run: retires one component with N simulated
 * credentials on the REAL backend process, SIGKILLs the backend at random
 * moments while the engine works, restarts it on the same database and the
 * same demo state file, and repeats until the retirement is `completed`.
 * Then it checks that every step left exactly one result in the evidence,
 * that the evidence chain verifies, and that every credential is revoked in
 * the demo provider's state file.
 *
 *   node chaos/crash.mjs [--size small|full] [--db sqlite|postgres|both] [--kills N]
 *                        [--keep] [--seed S]
 *
 * Exit code 0 only if every check passed on every database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Backend,
  createChaosRetirement,
  createPgDatabase,
  dropPgDatabase,
  freePort,
  killLiveBackends,
  log,
  root,
  tail,
} from './lib/backend.mjs';
import {
  credentialIds,
  describeSteps,
  median,
  mulberry32,
  printTable,
  resultsByStep as countResults,
  writeChaosCatalog,
} from './lib/run.mjs';

// ---- arguments ------------------------------------------------------------

function parseArgs(argv) {
  const args = {
    size: 'full',
    db: 'sqlite',
    kills: undefined,
    maxKills: Infinity,
    keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--size') args.size = value();
    else if (a === '--db') args.db = value();
    else if (a === '--kills') args.kills = Number(value());
    else if (a === '--max-kills') args.maxKills = Number(value());
    else if (a === '--keep') args.keep = true;
    else if (a === '--seed') args.seed = Number(value());
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: node chaos/crash.mjs [--size small|full] [--db sqlite|postgres|both] [--kills N] [--max-kills M] [--keep] [--seed S]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!['small', 'full'].includes(args.size)) {
    throw new Error('--size must be small or full');
  }
  if (!['sqlite', 'postgres', 'both'].includes(args.db)) {
    throw new Error('--db must be sqlite, postgres or both');
  }
  args.kills ??= args.size === 'full' ? 20 : 5;
  if (!(Number.isInteger(args.kills) && args.kills >= 0)) {
    throw new Error('--kills must be a whole number >= 0');
  }
  if (!(args.maxKills >= args.kills)) {
    throw new Error('--max-kills must be >= --kills');
  }
  return args;
}

// ---- one run -----------------------------------------------------------------

async function runOnce({ db, size, minKills, maxKills, keep, random }) {
  const started = Date.now();
  const n = size === 'full' ? 1000 : 100;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `nhi-chaos-${db}-`));
  const ids = credentialIds(n);
  const stateFile = path.join(dir, 'demo-credentials.json');
  const logFile = path.join(dir, 'backend.log');
  const catalogFile = path.join(dir, 'chaos-target.yaml');
  writeChaosCatalog(catalogFile, ids);

  const port = await freePort();
  const pgDatabase = `nhi_chaos_${process.pid}_${Date.now().toString(36)}`;
  const database =
    db === 'postgres'
      ? {
          client: 'pg',
          pluginDivisionMode: 'schema',
          connection: {
            host: '127.0.0.1',
            port: 5432,
            user: 'postgres',
            database: pgDatabase,
          },
        }
      : {
          client: 'better-sqlite3',
          connection: { directory: path.join(dir, 'sqlite') },
        };
  if (db === 'postgres') await createPgDatabase(pgDatabase);
  const overlay = path.join(dir, 'app-config.chaos.yaml');
  // JSON is YAML: the config loader reads it as is.
  fs.writeFileSync(
    overlay,
    `${JSON.stringify(
      {
        backend: {
          baseUrl: `http://127.0.0.1:${port}`,
          listen: { port, host: '127.0.0.1' },
          database,
        },
        catalog: {
          locations: [
            { type: 'file', target: path.join(root, 'examples/org.yaml') },
            { type: 'file', target: catalogFile },
          ],
        },
        nhiOffboarding: {
          engine: { leaseMs: 3000, pollIntervalMs: 200 },
          providers: [
            {
              id: 'demo',
              type: 'demo',
              latencyMs: 20,
              failureRate: 0,
              // Few calls in flight at once: the run lasts long enough for
              // the kills, and each kill still interrupts calls in flight.
              concurrency: size === 'full' ? 4 : 2,
              stateFile,
            },
          ],
        },
      },
      null,
      2,
    )}\n`,
  );

  const backend = new Backend({ overlay, port, logFile });
  const result = {
    db,
    size,
    anchors: n,
    dir,
    kills: 0,
    restarts: 0,
    startupMs: [],
    checks: [],
    figures: {},
  };
  let retirementId;
  try {
    // -- first start, the entity, the retirement --------------------------
    let t0 = Date.now();
    backend.start();
    await backend.waitReady();
    result.startupMs.push(Date.now() - t0);
    await backend.token();
    log(`${db}: backend ready on :${port} in ${Date.now() - t0} ms (${dir})`);
    t0 = Date.now();
    const created = { json: await createChaosRetirement(backend) };
    log(`${db}: chaos-target is in the catalog; retirement started`);
    retirementId = created.json.id;
    result.createMs = Date.now() - t0;
    log(
      `${db}: retirement ${retirementId} created in ${result.createMs} ms with ${created.json.progress?.total} steps`,
    );

    // -- the kill loop ---------------------------------------------------------
    let status = created.json.status;
    let progress = created.json.progress;
    let liveMs = 0; // time the backend was up and working
    const pollMs = size === 'full' ? 1000 : 250;
    const loopDeadline = Date.now() + (size === 'full' ? 40 : 10) * 60_000;
    while (status !== 'completed') {
      if (['needs-attention', 'cancelled', 'failed'].includes(status)) {
        break;
      }
      if (Date.now() > loopDeadline) {
        throw new Error(`no completion before the deadline (status ${status})`);
      }
      // Pick a kill moment. While fewer than minKills kills were made, cap the
      // delay by the estimated remaining work so the run cannot finish first.
      let maxDelay = 3000;
      if (result.kills < minKills && progress?.done > 0 && liveMs > 0) {
        const rate = progress.done / liveMs; // steps per ms
        const remainingMs = (progress.total - progress.done) / rate;
        maxDelay = Math.max(
          200,
          Math.min(3000, remainingMs / (minKills - result.kills + 1)),
        );
      } else if (result.kills < minKills) {
        maxDelay = 1500;
      }
      const delay = Math.round(200 + random() * (maxDelay - 200));
      const aliveFrom = Date.now();
      // After --max-kills kills the backend runs to the end undisturbed.
      const killing = result.kills < maxKills;
      const killAt = killing ? aliveFrom + delay : loopDeadline;
      // Poll the status until the kill moment (the retirement may complete).
      while (Date.now() < killAt) {
        // A full retirement answers with 2300 steps: ask less often.
        await sleep(Math.min(pollMs, Math.max(0, killAt - Date.now())));
        if (!backend.alive) {
          throw new Error(`the backend died by itself:\n${tail(logFile)}`);
        }
        try {
          const r = await backend.api(
            'GET',
            `/api/nhi-offboarding/retirements/${retirementId}`,
          );
          if (r.ok) {
            status = r.json.status;
            progress = r.json.progress;
            if (!['pending', 'running'].includes(status)) break;
          }
        } catch {
          // a slow answer; try again
        }
      }
      liveMs += Date.now() - aliveFrom;
      if (!killing || !['pending', 'running'].includes(status)) continue;
      await backend.kill();
      result.kills++;
      log(
        `${db}: kill ${result.kills} after ${delay} ms: ${progress?.done}/${progress?.total} steps done, status ${status}`,
      );
      const t1 = Date.now();
      backend.start();
      result.restarts++;
      await backend.waitReady();
      result.startupMs.push(Date.now() - t1);
      await backend.token();
    }

    // -- checks ----------------------------------------------------------------
    // Let the engine settle (nothing should run any more).
    const final = await backend.api(
      'GET',
      `/api/nhi-offboarding/retirements/${retirementId}?steps=all`,
    );
    const evidence = await backend.api(
      'GET',
      `/api/nhi-offboarding/retirements/${retirementId}/evidence?format=export`,
    );
    const verify = await backend.api(
      'GET',
      `/api/nhi-offboarding/retirements/${retirementId}/evidence/verify`,
    );
    const retirement = final.json;
    const steps = retirement.steps ?? [];
    const items = evidence.json.items ?? [];
    const resultsByStep = countResults(items);
    const stepIds = new Set(steps.map(s => s.id));
    const exactlyOne = steps.filter(s => resultsByStep.get(s.id) === 1).length;
    const duplicates = steps.filter(s => (resultsByStep.get(s.id) ?? 0) > 1);
    const missing = steps.filter(s => !resultsByStep.get(s.id));
    const orphans = [...resultsByStep.keys()].filter(id => !stepIds.has(id));
    const notSucceeded = steps.filter(s => s.status !== 'succeeded');
    const anchorSteps = new Set(
      steps.filter(s => s.anchorId).map(s => s.anchorId),
    );

    let state;
    try {
      state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    } catch (error) {
      state = { credentials: {}, error: error.message };
    }
    const notRevoked = ids.filter(
      id => state.credentials?.[id]?.status !== 'revoked',
    );
    const strayTmp = fs
      .readdirSync(dir)
      .filter(
        f => f.startsWith('demo-credentials.json.') && f.endsWith('.tmp'),
      );

    const f = result.figures;
    f['kills survived'] = result.kills;
    f['backend starts'] = backend.starts;
    f['total steps'] = steps.length;
    f['anchors in the run'] = anchorSteps.size;
    f['steps with exactly one result'] = exactlyOne;
    f['duplicates'] = duplicates.length;
    f['missing'] = missing.length;
    f['results of unknown steps'] = orphans.length;
    f['steps not succeeded'] = notSucceeded.length;
    f['evidence records'] = items.length;
    f['evidence chain'] = verify.json?.valid
      ? `valid (${verify.json.count})`
      : `INVALID ${JSON.stringify(verify.json)}`;
    f['final status'] = retirement.status;
    f['credentials revoked in state file'] = `${n - notRevoked.length}/${n}`;
    f['stray temp files of the state file'] = strayTmp.length;
    f['median restart to ready (ms)'] = median(result.startupMs.slice(1));
    f['wall time (s)'] = ((Date.now() - started) / 1000).toFixed(1);

    const check = (name, ok, detail) =>
      result.checks.push({ name, ok: Boolean(ok), detail });
    check(`kills >= ${minKills}`, result.kills >= minKills, `${result.kills}`);
    check(
      'final status completed',
      retirement.status === 'completed',
      `${retirement.status} ${retirement.statusReason ?? ''}`,
    );
    check(
      'anchors in the run == N',
      anchorSteps.size === n,
      `${anchorSteps.size}`,
    );
    check(
      'every step has exactly one result',
      exactlyOne === steps.length && steps.length > 0,
      `${exactlyOne}/${steps.length}`,
    );
    check(
      'duplicates == 0',
      duplicates.length === 0,
      describeSteps(duplicates, resultsByStep),
    );
    check(
      'missing == 0',
      missing.length === 0,
      describeSteps(missing, resultsByStep),
    );
    check(
      'no results of unknown steps',
      orphans.length === 0,
      orphans.slice(0, 5).join(', '),
    );
    check(
      'every step succeeded',
      notSucceeded.length === 0,
      describeSteps(notSucceeded, resultsByStep),
    );
    check(
      'evidence chain valid',
      verify.json?.valid === true,
      JSON.stringify(verify.json),
    );
    check(
      'every credential revoked in the state file',
      notRevoked.length === 0,
      notRevoked.slice(0, 5).join(', '),
    );
    result.ok = result.checks.every(c => c.ok);
  } catch (error) {
    result.error = error;
    result.ok = false;
  } finally {
    await backend.kill();
    if (db === 'postgres') await dropPgDatabase(pgDatabase);
    result.wallMs = Date.now() - started;
    if (result.ok && !keep) {
      fs.rmSync(dir, { recursive: true, force: true });
    } else {
      log(`${db}: data and backend log kept in ${dir}`);
    }
  }
  return result;
}

// ---- main ------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const seed = args.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = mulberry32(seed);
  const dbs = args.db === 'both' ? ['sqlite', 'postgres'] : [args.db];
  log(
    `size ${args.size}, db ${dbs.join('+')}, at least ${
      args.kills
    } kills, seed ${seed}`,
  );
  const results = [];
  let current;
  const onSignal = async sig => {
    log(`${sig}: stopping`);
    killLiveBackends();
    process.exitCode = 130;
    process.exit();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  for (const db of dbs) {
    current = await runOnce({
      db,
      size: args.size,
      minKills: args.kills,
      maxKills: args.maxKills,
      keep: args.keep,
      random,
    });
    results.push(current);
  }
  console.log('');
  printTable(results);
  console.log('');
  let ok = true;
  for (const r of results) {
    if (r.error) {
      ok = false;
      console.log(`FAIL ${r.db}: ${r.error.stack ?? r.error}`);
    }
    for (const c of r.checks) {
      if (!c.ok) ok = false;
      console.log(
        `${c.ok ? 'ok  ' : 'FAIL'} ${r.db}: ${c.name}${
          c.ok ? '' : ` — ${c.detail}`
        }`,
      );
    }
    console.log(`     ${r.db}: wall time ${(r.wallMs / 1000).toFixed(1)} s`);
  }
  console.log(ok ? `\nPASS (seed ${seed})` : `\nFAILED (seed ${seed})`);
  process.exitCode = ok ? 0 : 1;
}

main().catch(error => {
  console.error(error);
  process.exitCode = 1;
});
