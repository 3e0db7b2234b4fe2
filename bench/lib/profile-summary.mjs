#!/usr/bin/env node
/*
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by
 * package/file group, to see where a benchmark's CPU goes.
 *
 *   node bench/lib/profile-summary.mjs /tmp/prof/CPU.*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const topIdx = args.indexOf('--top');
const top = topIdx >= 0 ? Number(args[topIdx + 1]) : 25;
const files = args.filter(
  (a, i) => !a.startsWith('--') && (topIdx < 0 || i !== topIdx + 1),
);

function group(url) {
  if (!url) return '(native/gc/idle)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const m = /\/(plugins\/[^/]+\/src\/[^/]+)/.exec(url);
  if (m) return m[1];
  return url
    .replace(/^file:\/\//, '')
    .split('/')
    .slice(-2)
    .join('/');
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map(n => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map();
  const byGroup = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    const cf = n.callFrame;
    const fn = `${cf.functionName || '(anonymous)'} ${group(cf.url)}:${
      cf.lineNumber + 1
    }`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    const g =
      cf.functionName === '(idle)'
        ? '(idle)'
        : cf.functionName === '(garbage collector)'
        ? '(gc)'
        : group(cf.url);
    byGroup.set(g, (byGroup.get(g) ?? 0) + us);
  }
  const pct = us => `${((us / total) * 100).toFixed(1)}%`.padStart(6);
  console.log(`\n${file}: ${(total / 1e6).toFixed(2)} s sampled`);
  console.log('-- by package / source folder (self time)');
  for (const [g, us] of [...byGroup]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)) {
    console.log(`${pct(us)} ${(us / 1000).toFixed(0).padStart(7)} ms  ${g}`);
  }
  console.log('-- by function (self time)');
  for (const [f, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${pct(us)} ${(us / 1000).toFixed(0).padStart(7)} ms  ${f}`);
  }
}
