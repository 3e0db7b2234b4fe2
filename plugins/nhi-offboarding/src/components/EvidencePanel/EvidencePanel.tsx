import { useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import Timeline from '@material-ui/lab/Timeline';
import TimelineConnector from '@material-ui/lab/TimelineConnector';
import TimelineContent from '@material-ui/lab/TimelineContent';
import TimelineDot from '@material-ui/lab/TimelineDot';
import TimelineItem from '@material-ui/lab/TimelineItem';
import TimelineOppositeContent from '@material-ui/lab/TimelineOppositeContent';
import TimelineSeparator from '@material-ui/lab/TimelineSeparator';
import GetAppIcon from '@material-ui/icons/GetApp';
import { Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import type {
  EvidenceRecord,
  EvidenceVerification,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingApiRef, type NhiOffboardingApi } from '../../api';
import {
  EVIDENCE_KIND_LABELS,
  StatusChip,
  type Tone,
  describeError,
  formatDateTime,
  labelOf,
  shortEntityRef,
  shortHash,
} from '../common';
import { downloadText } from './download';

const useStyles = makeStyles(theme => ({
  timeline: { padding: 0, margin: 0 },
  opposite: { flex: '0 0 170px', paddingLeft: 0 },
  mono: {
    fontFamily: 'monospace',
    fontSize: theme.typography.caption.fontSize,
  },
  broken: {
    borderLeft: `4px solid ${theme.palette.error.main}`,
    paddingLeft: theme.spacing(1),
  },
  data: {
    fontFamily: 'monospace',
    fontSize: theme.typography.caption.fontSize,
    whiteSpace: 'pre-wrap',
    wordBreak: 'break-all',
    margin: 0,
  },
}));

const KIND_TONES: Record<string, Tone> = {
  planned: 'neutral',
  action: 'running',
  verification: 'ok',
  attestation: 'info',
  exception: 'warning',
  hold: 'warning',
  status: 'neutral',
  completion: 'ok',
};

const DOT_COLOURS: Record<string, 'grey' | 'primary' | 'secondary'> = {
  action: 'primary',
  verification: 'primary',
  completion: 'primary',
  exception: 'secondary',
  hold: 'secondary',
};

/** What a verification observed, from the record's data, in words. */
function observed(record: EvidenceRecord): string | undefined {
  if (record.kind !== 'verification') {
    return undefined;
  }
  const outcome = record.data.outcome;
  if (outcome === 'untrusted') {
    return 'Observed: the system no longer trusts it';
  }
  if (outcome === 'trusted') {
    return 'Observed: the system still trusts it';
  }
  if (outcome === 'unknown') {
    return 'Observed: the system could not tell';
  }
  return undefined;
}

/** The chain's integrity in one line. */
export const ChainIntegrity = (props: {
  verification: EvidenceVerification;
}) => {
  const classes = useStyles();
  const v = props.verification;
  if (v.valid) {
    return (
      <Alert severity="success">
        <AlertTitle>Chain verified</AlertTitle>
        All {v.count} {v.count === 1 ? 'record is' : 'records are'} intact and
        linked{v.headHash ? ' up to head ' : '.'}
        {v.headHash && (
          <span className={classes.mono} title={v.headHash}>
            {shortHash(v.headHash, 16)}
          </span>
        )}
      </Alert>
    );
  }
  return (
    <Alert severity="error">
      <AlertTitle>
        {v.firstInvalidSeq !== undefined
          ? `Chain broken at record ${v.firstInvalidSeq}`
          : 'Chain broken'}
      </AlertTitle>
      {v.problem ?? 'A record does not match its hash or its predecessor.'}{' '}
      Records from there on cannot be trusted as evidence.
    </Alert>
  );
};

const RecordItem = (props: {
  record: EvidenceRecord;
  broken: boolean;
  last: boolean;
}) => {
  const classes = useStyles();
  const [open, setOpen] = useState(false);
  const { record } = props;
  const what = observed(record);
  const hasData = Object.keys(record.data ?? {}).length > 0;
  return (
    <TimelineItem data-testid={`evidence-${record.seq}`}>
      <TimelineOppositeContent className={classes.opposite}>
        <Typography variant="body2" color="textSecondary">
          {formatDateTime(record.at)}
        </Typography>
        <Typography variant="caption" color="textSecondary">
          #{record.seq}
        </Typography>
      </TimelineOppositeContent>
      <TimelineSeparator>
        <TimelineDot
          color={
            props.broken ? 'secondary' : DOT_COLOURS[record.kind] ?? 'grey'
          }
          variant={props.broken ? 'outlined' : 'default'}
        />
        {!props.last && <TimelineConnector />}
      </TimelineSeparator>
      <TimelineContent className={props.broken ? classes.broken : undefined}>
        <Box
          display="flex"
          alignItems="center"
          flexWrap="wrap"
          style={{ gap: 8 }}
        >
          <StatusChip
            label={labelOf(EVIDENCE_KIND_LABELS, record.kind)}
            tone={KIND_TONES[record.kind] ?? 'neutral'}
          />
          <Typography variant="body2">{record.summary}</Typography>
          {props.broken && <StatusChip label="Integrity broken" tone="error" />}
        </Box>
        {what && <Typography variant="body2">{what}</Typography>}
        <Typography variant="caption" color="textSecondary" component="div">
          by {shortEntityRef(record.actor)} · hash{' '}
          <span className={classes.mono} title={record.hash}>
            {shortHash(record.hash)}
          </span>
          {hasData && (
            <>
              {' · '}
              <Button
                size="small"
                onClick={() => setOpen(!open)}
                aria-expanded={open}
                style={{ padding: 0, minWidth: 0, textTransform: 'none' }}
              >
                {open ? 'Hide details' : 'Details'}
              </Button>
            </>
          )}
        </Typography>
        {open && (
          <pre className={classes.data}>
            {JSON.stringify(record.data, null, 2)}
          </pre>
        )}
      </TimelineContent>
    </TimelineItem>
  );
};

/** Records per "Load more". */
export const EVIDENCE_PAGE_SIZE = 50;

/** The first `wanted` records, oldest first, in pages of at most 1,000. */
async function readEvidence(
  api: NhiOffboardingApi,
  retirementId: string,
  wanted: number,
): Promise<{ records: EvidenceRecord[]; hasMore: boolean }> {
  const records: EvidenceRecord[] = [];
  let afterSeq: number | undefined;
  for (;;) {
    const page = await api.getEvidencePage(retirementId, {
      limit: Math.min(1000, wanted - records.length),
      afterSeq,
    });
    records.push(...page.items);
    afterSeq = page.nextAfterSeq;
    if (afterSeq === undefined || records.length >= wanted) {
      return { records, hasMore: afterSeq !== undefined };
    }
  }
}

/**
 * The evidence of a retirement: a timeline of its records, whether the hash
 * chain holds, and JSON / CSV downloads. `version` re-reads it when it
 * changes (e.g. the retirement's `updatedAt`).
 */
export const EvidencePanel = (props: {
  retirementId: string;
  version?: string;
}) => {
  const classes = useStyles();
  const api = useApi(nhiOffboardingApiRef);
  const { retirementId, version } = props;
  const [downloadError, setDownloadError] = useState<string>();

  // How many records to show: the first page, more on "Load more". The
  // verification always covers the whole chain.
  const [wanted, setWanted] = useState(EVIDENCE_PAGE_SIZE);

  const state = useAsyncRetry(async () => {
    const [page, verification] = await Promise.all([
      readEvidence(api, retirementId, wanted),
      api.verifyEvidence(retirementId),
    ]);
    return { ...page, verification };
  }, [api, retirementId, version, wanted]);

  const downloadJson = async () => {
    if (!state.value) {
      return;
    }
    setDownloadError(undefined);
    try {
      const records = await api.getEvidence(retirementId);
      downloadText(
        `evidence-${retirementId}.json`,
        JSON.stringify(
          {
            retirementId,
            verification: state.value.verification,
            records,
          },
          null,
          2,
        ),
        'application/json',
      );
    } catch (error) {
      setDownloadError(`The JSON download failed. ${describeError(error)}`);
    }
  };
  const downloadCsv = async () => {
    setDownloadError(undefined);
    try {
      const csv = await api.getEvidenceCsv(retirementId);
      downloadText(`evidence-${retirementId}.csv`, csv, 'text/csv');
    } catch (error) {
      setDownloadError(`The CSV download failed. ${describeError(error)}`);
    }
  };

  if (state.error && !state.value) {
    return (
      <ResponseErrorPanel
        error={state.error}
        title="Could not load the evidence"
      />
    );
  }
  if (!state.value) {
    return <Progress />;
  }
  const { records, hasMore, verification } = state.value;
  const firstBroken = verification.valid
    ? undefined
    : verification.firstInvalidSeq;
  const sorted = [...records].sort((a, b) => a.seq - b.seq);

  return (
    <Box>
      <Box
        display="flex"
        flexWrap="wrap"
        alignItems="flex-start"
        style={{ gap: 16 }}
      >
        <Box flex="1 1 320px">
          <ChainIntegrity verification={verification} />
        </Box>
        <Box display="flex" style={{ gap: 8 }}>
          <Button
            variant="outlined"
            startIcon={<GetAppIcon />}
            onClick={downloadJson}
            aria-label="Download the evidence as JSON"
          >
            JSON
          </Button>
          <Button
            variant="outlined"
            startIcon={<GetAppIcon />}
            onClick={downloadCsv}
            aria-label="Download the evidence as CSV"
          >
            CSV
          </Button>
        </Box>
      </Box>
      {downloadError && (
        <Box mt={1}>
          <Alert severity="error" onClose={() => setDownloadError(undefined)}>
            {downloadError}
          </Alert>
        </Box>
      )}
      {sorted.length === 0 ? (
        <Typography variant="body2" color="textSecondary">
          No evidence recorded yet.
        </Typography>
      ) : (
        <Timeline className={classes.timeline} aria-label="Evidence records">
          {sorted.map((record, index) => (
            <RecordItem
              key={record.seq}
              record={record}
              broken={firstBroken !== undefined && record.seq >= firstBroken}
              last={index === sorted.length - 1}
            />
          ))}
        </Timeline>
      )}
      {hasMore && (
        <Box display="flex" justifyContent="center" mt={1}>
          <Button
            variant="outlined"
            size="small"
            disabled={state.loading}
            onClick={() => setWanted(w => w + EVIDENCE_PAGE_SIZE)}
          >
            Load more evidence ({sorted.length} of {verification.count} shown)
          </Button>
        </Box>
      )}
    </Box>
  );
};
