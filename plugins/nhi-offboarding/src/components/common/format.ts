import { ResponseError } from '@backstage/errors';

const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeStyle: 'short',
});
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, {
  numeric: 'auto',
});

function parse(iso?: string): Date | undefined {
  if (!iso) {
    return undefined;
  }
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** "12 Mar 2026, 14:05", or "—". */
export function formatDateTime(iso?: string): string {
  const date = parse(iso);
  return date ? dateTimeFormat.format(date) : '—';
}

/** "12 Mar 2026", or "—". */
export function formatDate(iso?: string): string {
  const date = parse(iso);
  return date ? dateFormat.format(date) : '—';
}

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 24 * 3600 * 1000],
  ['month', 30 * 24 * 3600 * 1000],
  ['week', 7 * 24 * 3600 * 1000],
  ['day', 24 * 3600 * 1000],
  ['hour', 3600 * 1000],
  ['minute', 60 * 1000],
];

/** "3 days ago", "in 2 hours", "now", or "—". */
export function formatRelative(iso?: string, now: number = Date.now()): string {
  const date = parse(iso);
  if (!date) {
    return '—';
  }
  const diff = date.getTime() - now;
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms) {
      return relativeFormat.format(Math.round(diff / ms), unit);
    }
  }
  return relativeFormat.format(Math.round(diff / 1000), 'second');
}

/** "0.4 s", "45 s", "12 min", "3 h 20 min", "2 d 4 h". */
export function formatDuration(ms?: number): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    return '—';
  }
  // Sub-second runs are common for fast systems; "0 s" would read as "never".
  if (ms < 100) {
    return '< 0.1 s';
  }
  if (ms < 950) {
    return `${(ms / 1000).toFixed(1)} s`;
  }
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) {
    return `${seconds} s`;
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const rest = minutes % 60;
    return rest ? `${hours} h ${rest} min` : `${hours} h`;
  }
  const days = Math.floor(hours / 24);
  const restHours = hours % 24;
  return restHours ? `${days} d ${restHours} h` : `${days} d`;
}

/** Milliseconds from `from` to `to`, or undefined if either is missing. */
export function durationBetween(
  from?: string,
  to?: string,
): number | undefined {
  const a = parse(from);
  const b = parse(to);
  return a && b ? b.getTime() - a.getTime() : undefined;
}

/** The first characters of a hash or fingerprint, for display. */
export function shortHash(hash?: string, length = 12): string {
  if (!hash) {
    return '—';
  }
  const plain = hash.replace(/^sha256:/i, '');
  return plain.length > length ? `${plain.slice(0, length)}…` : plain;
}

/**
 * A message a person can act on. The backend's error body carries the
 * message; the status says what kind of problem it is.
 */
export function describeError(error: unknown): string {
  if (ResponseError.is(error)) {
    const message = error.body?.error?.message || error.message;
    switch (error.statusCode) {
      case 401:
        return `You are not signed in or your session expired: ${message}`;
      case 403:
        return `The permission policy does not allow this: ${message}`;
      case 404:
        return `Not found: ${message}`;
      case 409:
        return `Someone or something changed this in the meantime: ${message}. Reload and try again.`;
      default:
        return message;
    }
  }
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}
