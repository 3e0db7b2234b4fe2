export { AnchorsTable, AnchorsEmptyState } from './AnchorsTable';
export type { AnchorsTableProps } from './AnchorsTable';
