export { BarChart } from './BarChart';
export type { BarDatum } from './BarChart';
export { durationHistogram, median, shortDay } from './durations';
