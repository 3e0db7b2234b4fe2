import { formatDuration } from './format';

describe('formatDuration', () => {
  it.each([
    [undefined, '—'],
    [-5, '—'],
    [40, '< 0.1 s'],
    [420, '0.4 s'],
    [949, '0.9 s'],
    [45_000, '45 s'],
    [12 * 60_000, '12 min'],
    [(3 * 60 + 20) * 60_000, '3 h 20 min'],
    [4 * 3600_000, '4 h'],
    [(2 * 24 + 4) * 3600_000, '2 d 4 h'],
  ])('%s ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
