import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import Grid from '@material-ui/core/Grid';
import {
  InfoCard,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import type { TriggerFiring } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingApiRef } from '../../api';
import { RetireTabLink, TRIGGER_KIND_LABELS, formatDateTime } from '../common';

/**
 * Open proposals of retirement triggers across the catalog; they are
 * confirmed or dismissed on the entity's Retire tab, where the rows link.
 */
export const ProposalsCard = (props: { retireTabPath?: string }) => {
  const api = useApi(nhiOffboardingApiRef);
  const proposals = useAsyncRetry(
    () => api.listTriggerFirings({ status: 'proposed', limit: 200 }),
    [api],
  );
  const items = proposals.value ?? [];

  const columns: TableColumn<TriggerFiring>[] = [
    {
      title: 'Entity',
      field: 'entityRef',
      highlight: true,
      cellStyle: { whiteSpace: 'nowrap' },
      render: f => (
        <RetireTabLink entityRef={f.entityRef} tabPath={props.retireTabPath} />
      ),
    },
    {
      title: 'Trigger',
      field: 'trigger',
      render: f => TRIGGER_KIND_LABELS[f.trigger],
    },
    { title: 'Detail', field: 'detail', render: f => f.detail ?? '—' },
    {
      title: 'Mode',
      field: 'mode',
      render: f => (f.mode === 'quarantine' ? 'Quarantine' : 'Revoke'),
    },
    {
      title: 'Created',
      field: 'createdAt',
      defaultSort: 'desc',
      render: f => formatDateTime(f.createdAt),
    },
  ];

  return (
    <Grid item xs={12} component="section" aria-label="Proposals from triggers">
      <InfoCard
        title="Proposals from triggers"
        subheader="Retirements a trigger proposed; the entity's owner confirms or dismisses them on its Retire tab"
        noPadding
      >
        {proposals.error ? (
          <ResponseErrorPanel
            error={proposals.error}
            title="Could not load the proposals"
          />
        ) : (
          <Table<TriggerFiring>
            columns={columns}
            data={items}
            isLoading={proposals.loading}
            options={{
              toolbar: false,
              padding: 'dense',
              paging: items.length > 20,
              pageSize: 20,
              draggable: false,
            }}
            localization={{
              body: {
                emptyDataSourceMessage: 'No trigger proposes a retirement now.',
              },
            }}
          />
        )}
      </InfoCard>
    </Grid>
  );
};
