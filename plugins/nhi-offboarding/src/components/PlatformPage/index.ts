export { PlatformPage } from './PlatformPage';
export type { PlatformPageProps } from './PlatformPage';
