/*
 * Shared by the chaos harnesses: seeded randomness, the chaos catalog entity,
 * result counting over the evidence, the figures table.
 */
import fs from 'node:fs';

// A small seeded PRNG, so a failing run can be repeated with --seed.
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Credential ids: mostly own secrets, some identities and memberships. */
export function credentialIds(n) {
  const kinds = [
    'api-key',
    'token',
    'deploy-key',
    'ssh-key',
    'access-key',
    'certificate',
    'secret',
    'api-key',
    'service-account',
    'group-membership',
  ];
  return Array.from(
    { length: n },
    (_, i) =>
      `${kinds[i % kinds.length]}:chaos-${String(i + 1).padStart(4, '0')}`,
  );
}

/** Writes the catalog file of the one Component that links all `ids`. */
export function writeChaosCatalog(file, ids) {
  fs.writeFileSync(
    file,
    `${JSON.stringify(
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: {
          name: 'chaos-target',
          namespace: 'default',
          description: 'Chaos test target: many simulated credentials',
          annotations: { 'nhi-offboarding/demo': ids.join(', ') },
        },
        spec: {
          type: 'service',
          lifecycle: 'production',
          owner: 'group:default/payments-team',
        },
      },
      null,
      2,
    )}\n`,
  );
}

/**
 * Result records per step: provider steps end with an `action` or
 * `verification` record, the seal step with the `completion` record.
 */
export function resultsByStep(evidenceItems) {
  const counts = new Map();
  for (const e of evidenceItems) {
    if (!e.stepId) continue;
    if (['action', 'verification', 'completion'].includes(e.kind)) {
      counts.set(e.stepId, (counts.get(e.stepId) ?? 0) + 1);
    }
  }
  return counts;
}

export function describeSteps(steps, results) {
  return steps
    .slice(0, 5)
    .map(
      s =>
        `${s.id} ${s.action} ${s.anchorName ?? ''} ${s.status} results=${
          results.get(s.id) ?? 0
        }${s.lastError ? ` (${s.lastError})` : ''}`,
    )
    .join('; ');
}

export function median(values) {
  if (!values.length) return '-';
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function printTable(results) {
  const names = [...new Set(results.flatMap(r => Object.keys(r.figures)))];
  const header = [
    'figure',
    ...results.map(r => r.label ?? `${r.db} / ${r.size}`),
  ];
  const rows = names.map(n => [
    n,
    ...results.map(r => String(r.figures[n] ?? '-')),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map(r => r[i].length)),
  );
  const line = cells =>
    `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map(w => '-'.repeat(w + 2)).join('|')}|`);
  rows.forEach(r => console.log(line(r)));
}
