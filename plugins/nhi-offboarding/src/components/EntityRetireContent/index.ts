export { EntityRetireContent } from './EntityRetireContent';
