// The one implementation lives in chainCore.js, shared with the offline checker.
export { canonicalJson } from './chainCore';
