import type { ComponentType } from 'react';
import type { SvgIconProps } from '@material-ui/core/SvgIcon';
import Box from '@material-ui/core/Box';
import AccountBoxIcon from '@material-ui/icons/AccountBox';
import AppsIcon from '@material-ui/icons/Apps';
import CloudUploadIcon from '@material-ui/icons/CloudUpload';
import ConfirmationNumberIcon from '@material-ui/icons/ConfirmationNumber';
import FingerprintIcon from '@material-ui/icons/Fingerprint';
import GroupIcon from '@material-ui/icons/Group';
import HelpOutlineIcon from '@material-ui/icons/HelpOutline';
import LockIcon from '@material-ui/icons/Lock';
import LockOpenIcon from '@material-ui/icons/LockOpen';
import PersonIcon from '@material-ui/icons/Person';
import SecurityIcon from '@material-ui/icons/Security';
import StorageIcon from '@material-ui/icons/Storage';
import TimerIcon from '@material-ui/icons/Timer';
import VerifiedUserIcon from '@material-ui/icons/VerifiedUser';
import VpnKeyIcon from '@material-ui/icons/VpnKey';
import type { TrustAnchorKind } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { ANCHOR_KIND_LABELS, labelOf } from './labels';

const ICONS: Record<TrustAnchorKind, ComponentType<SvgIconProps>> = {
  'api-key': VpnKeyIcon,
  token: ConfirmationNumberIcon,
  'oauth-client': AppsIcon,
  'service-account': AccountBoxIcon,
  'iam-user': PersonIcon,
  'iam-role': SecurityIcon,
  'access-key': LockOpenIcon,
  certificate: VerifiedUserIcon,
  'ssh-key': FingerprintIcon,
  'deploy-key': CloudUploadIcon,
  'db-user': StorageIcon,
  secret: LockIcon,
  'group-membership': GroupIcon,
  session: TimerIcon,
  other: HelpOutlineIcon,
};

/** The icon of a trust anchor kind (decorative; the label says it). */
export const AnchorKindIcon = (props: {
  kind?: TrustAnchorKind;
  fontSize?: SvgIconProps['fontSize'];
}) => {
  const Icon = (props.kind && ICONS[props.kind]) || HelpOutlineIcon;
  return (
    <Icon
      fontSize={props.fontSize ?? 'small'}
      color="action"
      aria-hidden
      data-testid={`anchor-kind-icon-${props.kind ?? 'unknown'}`}
    />
  );
};

/** Icon and label of a trust anchor kind. */
export const AnchorKindLabel = (props: { kind?: TrustAnchorKind }) => (
  <Box
    component="span"
    display="inline-flex"
    alignItems="center"
    style={{ gap: 6 }}
  >
    <AnchorKindIcon kind={props.kind} />
    <span>{labelOf(ANCHOR_KIND_LABELS, props.kind)}</span>
  </Box>
);
