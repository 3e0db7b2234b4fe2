export {
  useLiveRetirement,
  useRetirementChanges,
  isLiveRetirement,
  retirementSignalChannel,
  RETIREMENT_POLL_INTERVAL_MS,
  LIVE_RETIREMENT_STATUSES,
} from './useLiveRetirement';
export type { LiveRetirementState } from './useLiveRetirement';
export { useNhiPermissions } from './useNhiPermissions';
export type { PermissionState } from './useNhiPermissions';
export { useProviderLabels } from './useProviderLabels';
export { useCurrentUserRef } from './useCurrentUserRef';
export { useTrustAnchors } from './useTrustAnchors';
export type { TrustAnchorsState } from './useTrustAnchors';
export { useResidualAccess, RESIDUAL_ACCESS_PAGE } from './useResidualAccess';
export type { ResidualAccessState } from './useResidualAccess';
