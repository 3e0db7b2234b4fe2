import type { BarDatum } from './BarChart';

const MIN = 60 * 1000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const BUCKETS: Array<{ label: string; upTo: number }> = [
  { label: '< 1 min', upTo: MIN },
  { label: '1–5 min', upTo: 5 * MIN },
  { label: '5–15 min', upTo: 15 * MIN },
  { label: '15–60 min', upTo: HOUR },
  { label: '1–4 h', upTo: 4 * HOUR },
  { label: '4–24 h', upTo: DAY },
  { label: '1–7 d', upTo: 7 * DAY },
  { label: '> 7 d', upTo: Infinity },
];

/** Durations counted into human-sized buckets, for a histogram. */
export function durationHistogram(durationsMs: number[]): BarDatum[] {
  const counts = BUCKETS.map(b => ({ label: b.label, value: 0 }));
  for (const ms of durationsMs) {
    if (!Number.isFinite(ms) || ms < 0) {
      continue;
    }
    const index = BUCKETS.findIndex(b => ms < b.upTo);
    counts[index].value++;
  }
  return counts;
}

/** The middle value, or undefined for no values. */
export function median(values: number[]): number | undefined {
  if (values.length === 0) {
    return undefined;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** "2026-03-12" → "12 Mar" (UTC calendar days, as the backend counts). */
export function shortDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) {
    return day;
  }
  return date.toLocaleDateString(undefined, {
    day: 'numeric',
    month: 'short',
    timeZone: 'UTC',
  });
}
