#!/usr/bin/env node
/*
 * Two replicas: two REAL backend processes on one PostgreSQL database and one
 * demo state file work the same retirement. One of them is SIGKILLed while it
 * holds leases (and started again), the other takes its steps over when the
 * leases expire. Then the demo provider's call log (both processes append to
 * it) is checked: no step was worked on by two calls at once, no effect was
 * applied twice, takeovers happened; plus the evidence (one result per step,
 * chain valid) and the state file (every credential revoked).
 *
 * With --faults R the provider injects faults into R of the engine's calls
 * (5xx-like errors, 429 with Retry-After, slow answers past the call timeout,
 * hangs); the retirement must then end `completed` with every credential
 * revoked, or `needs-attention` with a reason, and the retry policy must hold.
 *
 *   node chaos/replicas.mjs [--size small|full] [--kills N] [--no-restart]
 *                           [--faults R] [--seed S] [--keep]
 *
 * Exit code 0 only if every check passed.
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
  withPg,
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

const LEASE_MS = 3000;
const CALL_TIMEOUT_MS = 1500;
const RETRY_AFTER_MS = 400;

function parseArgs(argv) {
  const args = { size: 'full', restart: true, faults: 0, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--size') args.size = value();
    else if (a === '--kills') args.kills = Number(value());
    else if (a === '--no-restart') args.restart = false;
    else if (a === '--faults') args.faults = Number(value());
    else if (a === '--seed') args.seed = Number(value());
    else if (a === '--keep') args.keep = true;
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: node chaos/replicas.mjs [--size small|full] [--kills N] [--no-restart] [--faults R] [--seed S] [--keep]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!['small', 'full'].includes(args.size)) {
    throw new Error('--size must be small or full');
  }
  args.kills ??= args.size === 'full' ? 3 : 1;
  if (!(Number.isInteger(args.kills) && args.kills >= 0)) {
    throw new Error('--kills must be a whole number >= 0');
  }
  if (!args.restart && args.kills > 1) {
    throw new Error('--no-restart allows --kills 0 or 1 (one replica stays)');
  }
  if (!(args.faults >= 0 && args.faults <= 1)) {
    throw new Error('--faults must be between 0 and 1');
  }
  return args;
}

/** How a fault rate R is spread over the kinds of faults. */
function faultConfig(rate) {
  if (!rate) return undefined;
  return {
    errorRate: rate * 0.4,
    rateLimitRate: rate * 0.3,
    retryAfterMs: RETRY_AFTER_MS,
    slowRate: rate * 0.15,
    slowMs: CALL_TIMEOUT_MS * 4,
    hangRate: rate * 0.15,
  };
}

// ---- the call log ------------------------------------------------------------

/** Pairs the start and end lines of every call. */
function readCalls(file, killedAt) {
  const calls = new Map();
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let l;
    try {
      l = JSON.parse(line);
    } catch {
      continue; // a line cut off by a kill
    }
    const c = calls.get(l.call) ?? { ...l };
    if (l.ev === 'start') c.start = l.at;
    else {
      c.end = l.at;
      c.result = l.result;
      c.changed = l.changed;
    }
    calls.set(l.call, c);
  }
  for (const c of calls.values()) {
    // A call of a killed process ended with it; one still open is open.
    c.until = c.end ?? killedAt.get(c.pid) ?? Infinity;
  }
  return [...calls.values()].filter(c => c.start !== undefined);
}

function group(items, key) {
  const m = new Map();
  for (const i of items) {
    const k = key(i);
    m.set(k, [...(m.get(k) ?? []), i]);
  }
  return m;
}

function pidOfWorker(workerId) {
  const m = /-(\d+)-[0-9a-f]+$/.exec(workerId ?? '');
  return m ? Number(m[1]) : undefined;
}

// ---- one run -----------------------------------------------------------------

async function run({ size, kills, restart, faults, keep, random }) {
  const started = Date.now();
  const n = size === 'full' ? 1000 : 100;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nhi-replicas-'));
  const ids = credentialIds(n);
  const stateFile = path.join(dir, 'demo-credentials.json');
  const callLogFile = path.join(dir, 'demo-calls.jsonl');
  const catalogFile = path.join(dir, 'chaos-target.yaml');
  writeChaosCatalog(catalogFile, ids);
  const pgDatabase = `nhi_replicas_${process.pid}_${Date.now().toString(36)}`;
  await createPgDatabase(pgDatabase);

  const replicas = [];
  for (const name of ['A', 'B']) {
    const port = await freePort();
    const overlay = path.join(dir, `app-config.${name}.yaml`);
    fs.writeFileSync(
      overlay,
      `${JSON.stringify(
        {
          backend: {
            baseUrl: `http://127.0.0.1:${port}`,
            listen: { port, host: '127.0.0.1' },
            database: {
              client: 'pg',
              pluginDivisionMode: 'schema',
              connection: {
                host: '127.0.0.1',
                port: 5432,
                user: 'postgres',
                database: pgDatabase,
              },
            },
          },
          catalog: {
            locations: [
              { type: 'file', target: path.join(root, 'examples/org.yaml') },
              { type: 'file', target: catalogFile },
            ],
          },
          nhiOffboarding: {
            engine: {
              leaseMs: LEASE_MS,
              pollIntervalMs: 200,
              callTimeoutMs: CALL_TIMEOUT_MS,
              maxAttempts: 6,
              retryBaseDelayMs: 200,
              retryMaxDelayMs: 2000,
            },
            providers: [
              {
                id: 'demo',
                type: 'demo',
                latencyMs: 20,
                concurrency: 2,
                stateFile,
                callLogFile,
                ...(faultConfig(faults) ? { faults: faultConfig(faults) } : {}),
              },
            ],
          },
        },
        null,
        2,
      )}\n`,
    );
    const backend = new Backend({
      overlay,
      port,
      logFile: path.join(dir, `backend-${name}.log`),
    });
    backend.name = name;
    replicas.push(backend);
  }

  const result = {
    label: `postgres / ${size}${faults ? ` / faults ${faults}` : ''}`,
    dir,
    checks: [],
    figures: {},
    startupMs: [],
  };
  const killedAt = new Map(); // pid -> ms
  const pidName = new Map(); // pid -> "A#1"
  const killLog = [];
  const remember = b => pidName.set(b.child.pid, `${b.name}#${b.starts}`);
  const startReplica = async b => {
    const t0 = Date.now();
    b.start();
    remember(b);
    await b.waitReady();
    result.startupMs.push(Date.now() - t0);
    await b.token();
  };
  try {
    // One after the other: on a fresh database the first start runs the
    // migrations, and Backstage's catalog fails its start when another
    // process holds the migration lock (MigrationLocked) instead of waiting.
    for (const b of replicas) await startReplica(b);
    log(
      `replicas ready: ${replicas
        .map(b => `${b.name} :${b.port}`)
        .join(', ')} (${dir})`,
    );
    const created = await createChaosRetirement(replicas[0]);
    const retirementId = created.id;
    log(`retirement ${retirementId} with ${created.progress?.total} steps`);

    // -- kills ---------------------------------------------------------------
    const stepsTable = `"nhi-offboarding".nhi_steps`;
    /** Who holds leases now: pid -> ids of the steps it is working on. */
    const leaseHolders = async () => {
      const { rows } = await withPg(
        c =>
          c.query(
            `SELECT id, lease_owner FROM ${stepsTable} WHERE status = 'running' AND retirement_id = $1`,
            [retirementId],
          ),
        pgDatabase,
      );
      const held = new Map();
      for (const r of rows) {
        const pid = pidOfWorker(r.lease_owner);
        held.set(pid, [...(held.get(pid) ?? []), r.id]);
      }
      return held;
    };
    const api = () => replicas.find(b => b.alive && b.bearer);
    let status = created.status;
    let progress = created.progress;
    const deadline = Date.now() + (size === 'full' ? 20 : 6) * 60_000;
    let killsDone = 0;
    let restarting;
    // The next kill once this share of the steps is done. Under faults a
    // step that fails for good ends the retirement after its phase (fail
    // closed), possibly in the first one: there the kills come early, so
    // the run cannot end before them.
    const nextKillShare = share =>
      share +
      (1 - share) *
        (faults
          ? random() * 0.05
          : size === 'full'
          ? 0.1 + random() * 0.15
          : 0.25 + random() * 0.3);
    let killAtShare = nextKillShare(0);
    let statusAt = 0;
    while (
      !['completed', 'needs-attention', 'cancelled', 'failed'].includes(status)
    ) {
      if (Date.now() > deadline) {
        throw new Error(`no end before the deadline (status ${status})`);
      }
      const share = progress ? progress.done / progress.total : 0;
      const killDue = killsDone < kills && !restarting && share >= killAtShare;
      // While a kill is due, leases are looked at often: a quick call holds
      // its lease for only some tens of milliseconds.
      await sleep(killDue ? 20 : 200);
      if (Date.now() - statusAt >= 200) {
        statusAt = Date.now();
        try {
          const r = await api().api(
            'GET',
            `/api/nhi-offboarding/retirements/${retirementId}`,
          );
          if (r.ok) ({ status, progress } = r.json);
        } catch {
          // a slow answer; ask again
        }
      }
      if (!killDue) continue;
      // Kill alternately B and A, or the other one when the turn's victim
      // holds no lease at this moment.
      const holders = await leaseHolders();
      const victim = [replicas[(killsDone + 1) % 2], replicas[killsDone % 2]]
        .filter(b => b.alive)
        .find(b => holders.get(b.child.pid)?.length > 0);
      if (!victim) continue;
      const pid = victim.child.pid;
      const held = holders.get(pid).length;
      await victim.kill();
      killedAt.set(pid, Date.now());
      // What the dead process still holds: a step it finished between the
      // query and the kill is not orphaned. A kill that orphaned nothing
      // proves nothing about takeover, so it does not count.
      const orphanedNow = (await leaseHolders()).get(pid) ?? [];
      if (orphanedNow.length > 0) killsDone++;
      else
        log(
          `${pidName.get(
            pid,
          )} finished its lease(s) before the kill landed: not counted`,
        );
      killLog.push({
        who: pidName.get(pid),
        pid,
        leased: orphanedNow,
        held: orphanedNow.length,
        done: progress?.done,
      });
      log(
        `kill ${killsDone}: ${pidName.get(
          pid,
        )} (pid ${pid}) holding ${held} lease(s), ${progress?.done}/${
          progress?.total
        } steps done`,
      );
      // Soon after the victim is back: a restart takes 5-15 s.
      killAtShare = nextKillShare(share);
      if (restart) {
        restarting = sleep(500 + random() * 2000)
          .then(() => startReplica(victim))
          .then(() => log(`${pidName.get(victim.child.pid)} restarted`))
          .finally(() => (restarting = undefined));
      }
    }
    await restarting;

    // -- evidence and state ----------------------------------------------------
    const via = api();
    const final = (
      await via.api(
        'GET',
        `/api/nhi-offboarding/retirements/${retirementId}?steps=all`,
      )
    ).json;
    const items =
      (
        await via.api(
          'GET',
          `/api/nhi-offboarding/retirements/${retirementId}/evidence?format=export`,
        )
      ).json.items ?? [];
    const verify = (
      await via.api(
        'GET',
        `/api/nhi-offboarding/retirements/${retirementId}/evidence/verify`,
      )
    ).json;
    for (const b of replicas) {
      if (b.alive) killedAt.set(b.child.pid, Date.now());
      await b.kill();
    }
    const steps = final.steps ?? [];
    const results = countResults(items);
    const finished = steps.filter(s =>
      ['succeeded', 'failed'].includes(s.status),
    );
    const duplicates = steps.filter(s => (results.get(s.id) ?? 0) > 1);
    const finishedWithoutOne = finished.filter(s => results.get(s.id) !== 1);
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    const notRevoked = ids.filter(
      id => state.credentials?.[id]?.status !== 'revoked',
    );
    const resultWorker = new Map(
      items
        .filter(e => e.stepId && e.data?.worker)
        .map(e => [e.stepId, pidOfWorker(e.data.worker)]),
    );

    // -- the call log ----------------------------------------------------------
    const calls = readCalls(callLogFile, killedAt);
    const byStep = group(calls, c => c.stepId);
    let concurrent = 0;
    const concurrentExamples = [];
    let firstCallElsewhere = 0;
    let retryAfterBroken = 0;
    for (const [stepId, own] of byStep) {
      own.sort((a, b) => a.start - b.start);
      for (let i = 0; i < own.length; i++) {
        for (let j = i + 1; j < own.length; j++) {
          if (own[j].start < own[i].until) {
            concurrent++;
            if (concurrentExamples.length < 3) {
              concurrentExamples.push(
                `${stepId} ${own[i].action} ${own[i].externalId}: ${pidName.get(
                  own[i].pid,
                )} ${own[i].start}-${own[i].until} and ${pidName.get(
                  own[j].pid,
                )} ${own[j].start}-${own[j].until}`,
              );
            }
          }
        }
        // Retry-After: the next attempt of the step not before it.
        if (own[i].result === 'rate-limit' && own[i + 1]) {
          if (own[i + 1].start < own[i].end + RETRY_AFTER_MS - 5)
            retryAfterBroken++;
        }
      }
      const worker = resultWorker.get(stepId);
      if (worker !== undefined && own[0].pid !== worker) firstCallElsewhere++;
    }
    // Takeovers: steps leased by a killed process, finished by another one.
    // (A step the victim finished between the lease query and the kill was
    // not orphaned.)
    const orphaned = killLog
      .flatMap(k => k.leased.map(id => [id, k.pid]))
      .filter(([id, pid]) => resultWorker.get(id) !== pid);
    const stepById = new Map(steps.map(s => [s.id, s]));
    const sealWorker = new Map(
      items.filter(e => e.kind === 'completion').map(e => [e.stepId, true]),
    );
    const takenOver = orphaned.filter(([id, pid]) => {
      const s = stepById.get(id);
      if (!s || !['succeeded', 'failed'].includes(s.status)) return false;
      const w = resultWorker.get(id);
      return w !== undefined ? w !== pid : sealWorker.has(id);
    }).length;
    const effects = group(
      calls.filter(c => c.changed === true),
      c => `${c.externalId} ${c.action}`,
    );
    const appliedTwice = [...effects.values()].filter(v => v.length > 1);
    const perAction = group(calls, c => c.action);
    const perProcess = group(calls, c => pidName.get(c.pid) ?? String(c.pid));
    const resultsOf = group(calls, c => c.result ?? 'open');
    const ended = calls.filter(c => c.end !== undefined);
    const maxCallMs = Math.max(0, ...ended.map(c => c.end - c.start));
    const stepsAttempts = steps.map(s => s.attempts ?? 0);

    // -- figures ---------------------------------------------------------------
    const f = result.figures;
    f['anchors'] = new Set(
      steps.filter(s => s.anchorId).map(s => s.anchorId),
    ).size;
    f['steps'] = steps.length;
    f['kills (victim, leases held)'] =
      killLog.map(k => `${k.who}:${k.held}`).join(' ') || '0';
    f['backend starts'] = replicas.map(b => `${b.name}:${b.starts}`).join(' ');
    f['steps leased by killed processes'] = orphaned.length;
    f['of those finished by another process'] = takenOver;
    f['steps first called by one process, finished by another'] =
      firstCallElsewhere;
    f['provider calls'] = calls.length;
    f['calls per action'] = [...perAction]
      .map(([a, v]) => `${a}:${v.length}`)
      .join(' ');
    f['calls per process'] = [...perProcess]
      .map(([p, v]) => `${p}:${v.length}`)
      .join(' ');
    f['call results'] = [...resultsOf]
      .map(([r, v]) => `${r}:${v.length}`)
      .join(' ');
    f['effects applied (changed:true)'] = [...effects.values()].reduce(
      (a, v) => a + v.length,
      0,
    );
    f['effects applied twice'] = appliedTwice.length;
    f['concurrent calls of one step'] = concurrent;
    f['calls after Retry-After too early'] = retryAfterBroken;
    f['longest call (ms)'] = maxCallMs;
    f['attempts per step (max / total)'] = `${Math.max(
      0,
      ...stepsAttempts,
    )} / ${stepsAttempts.reduce((a, b) => a + b, 0)}`;
    f['steps with more than one result'] = duplicates.length;
    f['evidence chain'] = verify?.valid
      ? `valid (${verify.count})`
      : `INVALID ${JSON.stringify(verify)}`;
    f['final status'] = final.status;
    f['status reason'] = final.statusReason ?? '-';
    f['credentials revoked in state file'] = `${n - notRevoked.length}/${n}`;
    f['median start to ready (ms)'] = median(result.startupMs);
    f['wall time (s)'] = ((Date.now() - started) / 1000).toFixed(1);

    const check = (name, ok, detail) =>
      result.checks.push({ name, ok: Boolean(ok), detail });
    if (faults && kills > 1 && final.status === 'needs-attention') {
      // A step that failed for good ended the retirement after its phase;
      // the kills after that had no run left to land in. One at least.
      check(
        `kills == ${kills}, or >= 1 when the retirement ended early (needs attention)`,
        killsDone >= 1,
        `${killsDone}${killsDone < kills ? ' (ended before the rest)' : ''}`,
      );
    } else {
      check(`kills == ${kills}`, killsDone === kills, `${killsDone}`);
    }
    if (kills > 0)
      check(
        'every step leased by a killed process was taken over',
        // Under faults the retirement may stop (needs attention) first.
        (faults || takenOver === orphaned.length) && takenOver > 0,
        `${takenOver}/${orphaned.length}`,
      );
    if (faults) {
      check(
        'final status completed, or needs-attention with a reason',
        final.status === 'completed' ||
          (final.status === 'needs-attention' &&
            /failed/.test(final.statusReason ?? '')),
        `${final.status} ${final.statusReason ?? ''}`,
      );
      const failedWithoutReason = steps.filter(
        s => s.status === 'failed' && !s.lastError,
      );
      check(
        'every failed step says why',
        failedWithoutReason.length === 0,
        describeSteps(failedWithoutReason, results),
      );
      check(
        'faults were injected',
        calls.some(c =>
          ['error', 'rate-limit', 'aborted', 'hang-abandoned'].includes(
            c.result,
          ),
        ),
        '',
      );
      check(
        `no call longer than the cut-off (${CALL_TIMEOUT_MS} ms + 1 s)`,
        maxCallMs < CALL_TIMEOUT_MS + 1000,
        `${maxCallMs} ms`,
      );
      check(
        'Retry-After respected',
        retryAfterBroken === 0,
        `${retryAfterBroken}`,
      );
    } else {
      check(
        'final status completed',
        final.status === 'completed',
        `${final.status} ${final.statusReason ?? ''}`,
      );
      check(
        'every step succeeded',
        steps.every(s => s.status === 'succeeded'),
        describeSteps(
          steps.filter(s => s.status !== 'succeeded'),
          results,
        ),
      );
    }
    if (final.status === 'completed') {
      // Fail closed: completed means every credential really is revoked.
      check(
        'completed: every credential revoked in the state file',
        notRevoked.length === 0,
        notRevoked.slice(0, 5).join(', '),
      );
    }
    check(
      'every finished step has exactly one result',
      finishedWithoutOne.length === 0 && finished.length > 0,
      describeSteps(finishedWithoutOne, results),
    );
    check(
      'no step with more than one result',
      duplicates.length === 0,
      describeSteps(duplicates, results),
    );
    check(
      'no two calls of one step at the same time',
      concurrent === 0,
      concurrentExamples.join('; '),
    );
    check(
      'no effect applied twice',
      appliedTwice.length === 0,
      appliedTwice
        .slice(0, 3)
        .map(v => `${v[0].externalId} ${v[0].action} x${v.length}`)
        .join(', '),
    );
    check(
      'evidence chain valid',
      verify?.valid === true,
      JSON.stringify(verify),
    );
    result.ok = result.checks.every(c => c.ok);
  } catch (error) {
    result.error = error;
    result.ok = false;
  } finally {
    for (const b of replicas) await b.kill();
    await dropPgDatabase(pgDatabase);
    result.wallMs = Date.now() - started;
    if (result.ok && !keep) fs.rmSync(dir, { recursive: true, force: true });
    else log(`data, call log and backend logs kept in ${dir}`);
  }
  return result;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const seed = args.seed ?? Math.floor(Math.random() * 2 ** 31);
  log(
    `size ${args.size}, ${args.kills} kill(s)${
      args.restart ? ' with restart' : ''
    }, faults ${args.faults}, seed ${seed}`,
  );
  const onSignal = sig => {
    log(`${sig}: stopping`);
    killLiveBackends();
    process.exitCode = 130;
    process.exit();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const r = await run({ ...args, random: mulberry32(seed) });
  console.log('');
  printTable([r]);
  console.log('');
  if (r.error) console.log(`FAIL: ${r.error.stack ?? r.error}`);
  for (const c of r.checks) {
    console.log(
      `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.ok ? '' : ` — ${c.detail}`}`,
    );
  }
  console.log(`     wall time ${(r.wallMs / 1000).toFixed(1)} s`);
  console.log(r.ok ? `\nPASS (seed ${seed})` : `\nFAILED (seed ${seed})`);
  process.exitCode = r.ok ? 0 : 1;
}

main().catch(error => {
  console.error(error);
  process.exitCode = 1;
});
