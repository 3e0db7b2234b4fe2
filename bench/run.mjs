#!/usr/bin/env node
/*
 * Runs the NHI Offboarding benchmarks and prints one table; the same table
 * (with the machine, Node version, load and appendices) is appended to
 * bench/results/<date>-<machine>.md. See bench/README.md.
 *
 *   npm run bench -- [--size small|full] [--db sqlite|postgres|both]
 *                    [--only 1,2,3,4,5] [--duration <s per API endpoint>]
 *                    [--reps <loaded windows per API endpoint>]
 *
 * Each benchmark is a TypeScript script run in its own node process through
 * Backstage's node transform (the same one `backstage-cli package start`
 * uses), so the plugin's sources are benchmarked as they are. No figure is
 * asserted: targets are printed next to the figures.
 */
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, totalmem, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const require = createRequire(join(root, 'package.json'));
const transform = require.resolve(
  '@backstage/cli-node/config/nodeTransform.cjs',
);

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--'))
      out[a.slice(2)] = argv[++i];
    else out[a.slice(2)] = 'true';
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
if (args.help) {
  console.log(
    'npm run bench -- [--size small|full] [--db sqlite|postgres|both] [--only 1,2,3,4,5] [--duration 10] [--reps 1 (small) | 3 (full)]',
  );
  process.exit(0);
}
const size = args.size ?? 'small';
if (!['small', 'full'].includes(size)) throw new Error('--size small|full');
const dbArg = args.db ?? 'both';
if (!['sqlite', 'postgres', 'both'].includes(dbArg))
  throw new Error('--db sqlite|postgres|both');
const dbs = dbArg === 'both' ? ['sqlite', 'postgres'] : [dbArg];
const only = new Set((args.only ?? '1,2,3,4,5').split(',').map(s => s.trim()));
const duration = args.duration ?? '10';
// Loaded windows per endpoint in benchmark 5 (each after its own catalog
// window; the ratios are their median): one is enough for a smoke run.
const reps = args.reps ?? (size === 'full' ? '3' : '1');

/** The runs, in order: [benchmark number, script, extra args, size-specific?]. */
function plan(db) {
  const common = ['--db', db, '--size', size];
  const runs = [];
  if (only.has('1')) {
    runs.push(['1', 'runner-limit.ts', [...common]]);
    if (size === 'small') {
      runs.push([
        '1',
        'runner-limit.ts',
        [
          ...common,
          '--rate',
          '200',
          '--concurrency',
          '16',
          '--naive-sample',
          '0',
        ],
      ]);
    }
    runs.push([
      '1',
      'runner-limit.ts',
      [
        ...common,
        '--latency',
        '1',
        '--concurrency',
        '64',
        '--worker-concurrency',
        '64',
        '--naive-sample',
        '0',
        '--label',
        'engine ceiling: 1 ms, conc 64, 64 workers',
      ],
    ]);
  }
  if (only.has('2')) runs.push(['2', 'one-entity.ts', ['--db', db]]);
  if (only.has('3')) runs.push(['3', 'evidence.ts', [...common]]);
  if (only.has('4'))
    runs.push([
      '4',
      'runner-limit.ts',
      [...common, '--repeat', '3', '--memory', '--naive-sample', '0'],
    ]);
  if (only.has('5')) {
    // Full size seeds a persistent database once (minutes) and reuses it.
    runs.push([
      '5',
      'api-scale.ts',
      [
        '--db',
        db,
        '--size',
        size,
        '--duration',
        duration,
        '--reps',
        reps,
        ...(size === 'full' ? ['--persist'] : []),
      ],
    ]);
  }
  return runs;
}

function runScript(script, scriptArgs) {
  return new Promise(resolve => {
    const t0 = Date.now();
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        '--require',
        transform,
        join(here, script),
        ...scriptArgs,
      ],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', d => (out += d));
    child.stderr.on('data', d => process.stderr.write(d));
    const timer = setTimeout(() => child.kill('SIGTERM'), 30 * 60_000);
    child.on('exit', code => {
      clearTimeout(timer);
      const line = out.split('\n').find(l => l.startsWith('BENCH_JSON '));
      let result = { rows: [] };
      try {
        if (line) result = JSON.parse(line.slice('BENCH_JSON '.length));
      } catch (e) {
        result = { rows: [], error: String(e) };
      }
      resolve({ code, ms: Date.now() - t0, ...result });
    });
  });
}

const cell = v =>
  String(v ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');

async function main() {
  const started = new Date();
  const load0 = loadavg()
    .map(x => x.toFixed(2))
    .join(', ');
  const rows = [];
  const appendices = [];
  const failures = [];
  if (dbs.includes('postgres')) await runScript('cleanup.ts', []);
  for (const db of dbs) {
    for (const [n, script, scriptArgs] of plan(db)) {
      console.error(`\n=== benchmark ${n}: ${script} ${scriptArgs.join(' ')}`);
      const r = await runScript(script, scriptArgs);
      if (r.code !== 0 || r.rows.length === 0) {
        failures.push(`${script} ${scriptArgs.join(' ')}: exit ${r.code}`);
        rows.push({
          bench: `${n} (failed)`,
          db,
          metric: script,
          value: `exit ${r.code}`,
          note: scriptArgs.join(' '),
        });
      }
      rows.push(...r.rows);
      if (r.appendix) appendices.push(r.appendix);
      console.error(`=== ${script} done in ${(r.ms / 1000).toFixed(1)} s`);
    }
  }
  const ended = new Date();

  const header = '| benchmark | db | metric | value | unit | target | notes |';
  const sep = '| --- | --- | --- | ---: | --- | --- | --- |';
  const table = [
    header,
    sep,
    ...rows.map(
      r =>
        `| ${cell(r.bench)} | ${cell(r.db)} | ${cell(r.metric)} | ${cell(
          r.value,
        )} | ${cell(r.unit)} | ${cell(r.target)} | ${cell(r.note)} |`,
    ),
  ].join('\n');

  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync(
      'git',
      ['status', '--porcelain', '--', 'plugins', 'packages'],
      { cwd: root, encoding: 'utf8' },
    ).trim();
    if (dirty)
      commit += ' (with uncommitted changes under plugins/ or packages/)';
  } catch {
    /* not a git checkout */
  }
  const cpu = cpus();
  const machine = hostname().replace(/[^A-Za-z0-9_.-]/g, '_');
  const date = started.toISOString().slice(0, 10);
  const meta = [
    `- date: ${started.toISOString()} – ${ended.toISOString()} (${(
      (ended - started) /
      1000
    ).toFixed(0)} s)`,
    `- machine: ${hostname()}; node ${process.version}; CPU ${
      cpu[0]?.model ?? 'unknown'
    } x ${cpu.length} cores; ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `- load average (1, 5, 15 min) at start: ${load0}; at end: ${loadavg()
      .map(x => x.toFixed(2))
      .join(', ')} (other work shares this machine)`,
    `- command: node bench/run.mjs ${
      process.argv.slice(2).join(' ') || '(defaults)'
    }; size ${size}; databases ${dbs.join(', ')}; commit ${commit}`,
  ].join('\n');

  console.log(`\n${meta}\n\n${table}\n`);
  if (failures.length) console.log(`FAILED: ${failures.join('; ')}`);

  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${date}-${machine}.md`);
  const section = `## Run of ${started.toISOString()} (--size ${size}, --db ${dbArg}${
    args.only ? `, --only ${args.only}` : ''
  })\n\n${meta}\n\n${table}\n\n${
    appendices.length ? `### Appendix\n\n${appendices.join('\n\n')}\n` : ''
  }\n`;
  if (!existsSync(file)) {
    writeFileSync(
      file,
      `# NHI Offboarding benchmarks on ${hostname()}, ${date}\n\nWritten by bench/run.mjs; see bench/README.md for what each figure means.\n\n${section}`,
    );
  } else {
    appendFileSync(file, section);
  }
  console.log(`written to ${relative(root, file)}`);
  process.exit(failures.length ? 1 : 0);
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
