import Alert from '@material-ui/lab/Alert';
import type { DiscoveryProblem } from '../../api';

/** Says which systems could not be asked, so a list may be incomplete. */
export const DiscoveryProblems = (props: {
  problems?: DiscoveryProblem[];
  /** What may be incomplete, e.g. "this list" or "this plan". */
  what: string;
}) => {
  if (!props.problems?.length) {
    return null;
  }
  return (
    <Alert severity="warning">
      Some systems could not be asked, so {props.what} may be incomplete:{' '}
      {props.problems.map(p => `${p.providerId}: ${p.message}`).join('; ')}.
    </Alert>
  );
};
