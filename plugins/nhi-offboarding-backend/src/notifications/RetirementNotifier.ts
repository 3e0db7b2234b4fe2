import { parseEntityRef } from '@backstage/catalog-model';
import type { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import type { NotificationSeverity } from '@backstage/plugin-notifications-common';
import type {
  EvidenceRecord,
  Retirement,
  TriggerFiring,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { RetirementStore } from '../database/RetirementStore';

export const NOTIFICATION_TOPIC = 'nhi-offboarding';

/** One notification to send, before recipients are resolved. */
export interface PlannedNotification {
  recipients: string[];
  title: string;
  description: string;
  severity: NotificationSeverity;
  /** Same scope = the same notification, updated instead of sent again. */
  scope: string;
  link: string;
}

/** Link to an entity's Retire tab in the Backstage app. */
export function retireTabLink(entityRef: string): string {
  const { kind, namespace, name } = parseEntityRef(entityRef);
  return `/catalog/${encodeURIComponent(namespace)}/${encodeURIComponent(
    kind.toLocaleLowerCase('en-US'),
  )}/${encodeURIComponent(name)}/retire`;
}

/**
 * Turns evidence into notifications: owners hear when a retirement starts,
 * needs attention, completes or drifts; approvers when an exception waits
 * for them; owners of the remaining consumers when a shared secret was
 * rotated. Evidence is the one place every change passes, so nothing is
 * notified that did not happen, and the scope (retirement + event) makes a
 * repeated record update the notification instead of sending another.
 */
export class RetirementNotifier {
  constructor(
    private readonly options: {
      notifications: NotificationService;
      store: RetirementStore;
      catalog: CatalogService;
      auth: AuthService;
      logger: LoggerService;
      /** Who decides exceptions, e.g. group:default/platform. */
      approvers: string[];
    },
  ) {}

  /** Plans and sends, in the background: evidence writers never wait for it. */
  onRecords(records: EvidenceRecord[]): void {
    this.handle(records).catch(error =>
      this.options.logger.warn(`Notification failed: ${error}`),
    );
  }

  async handle(records: EvidenceRecord[]): Promise<void> {
    const interesting = records.filter(r => isInteresting(r));
    const ids = [...new Set(interesting.map(r => r.retirementId))];
    for (const id of ids) {
      const retirement = await this.options.store.getRetirement(id, {
        withSteps: false,
      });
      if (!retirement) continue;
      for (const record of interesting.filter(r => r.retirementId === id)) {
        for (const n of await this.plan(record, retirement)) await this.send(n);
      }
    }
  }

  /** A proposal waits for the entity's owner. */
  async onProposal(firing: TriggerFiring, owner?: string): Promise<void> {
    if (!owner) return;
    await this.send({
      recipients: [owner],
      title: `Retirement proposed for ${firing.entityRef}`,
      description: `${
        firing.detail ?? firing.trigger
      }. Confirm or dismiss it on the Retire tab.`,
      severity: 'high',
      scope: `nhi-offboarding:proposal:${firing.id}`,
      link: retireTabLink(firing.entityRef),
    });
  }

  async plan(
    record: EvidenceRecord,
    retirement: Retirement,
  ): Promise<PlannedNotification[]> {
    const owners = retirement.owner ? [retirement.owner] : [];
    const link = retireTabLink(retirement.entityRef);
    const scope = (event: string) =>
      `nhi-offboarding:${retirement.id}:${event}`;
    const forOwners = (
      event: string,
      title: string,
      severity: NotificationSeverity,
    ): PlannedNotification[] =>
      owners.length
        ? [
            {
              recipients: owners,
              title,
              description: record.summary,
              severity,
              scope: scope(event),
              link,
            },
          ]
        : [];
    const data = record.data as Record<string, unknown>;
    switch (record.kind) {
      case 'planned':
        return forOwners(
          'started',
          `Retirement of ${retirement.entityRef} started`,
          'normal',
        );
      case 'status':
        return data.status === 'needs-attention'
          ? forOwners(
              `attention-${record.seq}`,
              `Retirement of ${retirement.entityRef} needs attention`,
              'high',
            )
          : [];
      case 'completion':
        return forOwners(
          'completed',
          `Retirement of ${retirement.entityRef} completed`,
          'normal',
        );
      case 'drift':
        return forOwners(
          `drift-${record.seq}`,
          `Drift: ${retirement.entityRef} is trusted again somewhere`,
          'critical',
        );
      case 'exception':
        return data.decision === 'requested' && this.options.approvers.length
          ? [
              {
                recipients: this.options.approvers,
                title: `Exception waits for approval: ${retirement.entityRef}`,
                description: record.summary,
                severity: 'high',
                scope: scope(`exception-${String(data.exceptionId)}`),
                link,
              },
            ]
          : [];
      case 'action': {
        if (data.action !== 'rotate' || data.error) return [];
        const consumers = await this.consumerOwners(record, retirement);
        return consumers.length
          ? [
              {
                recipients: consumers,
                title: `Shared secret rotated: ${
                  record.summary.split(':')[0] ?? 'credential'
                }`,
                description: `${record.summary}. ${retirement.entityRef} was retired; your service still uses this credential and must pick up the new secret.`,
                severity: 'high',
                scope: scope(`rotated-${record.anchorId ?? record.seq}`),
                link,
              },
            ]
          : [];
      }
      default:
        return [];
    }
  }

  /** Owners of the other entities that share the rotated credential. */
  private async consumerOwners(
    record: EvidenceRecord,
    retirement: Retirement,
  ): Promise<string[]> {
    if (!record.anchorId) return [];
    const [anchor] = await this.options.store.getAnchors([record.anchorId]);
    if (!anchor || anchor.sharedWith.length === 0) return [];
    const credentials = await this.options.auth.getOwnServiceCredentials();
    const { items } = await this.options.catalog.getEntitiesByRefs(
      {
        entityRefs: anchor.sharedWith,
        fields: ['kind', 'metadata', 'spec.owner'],
      },
      { credentials },
    );
    const owners = new Set<string>();
    for (const entity of items) {
      const owner = entity?.spec?.owner;
      if (typeof owner !== 'string') continue;
      try {
        const ref = parseEntityRef(owner, {
          defaultKind: 'group',
          defaultNamespace: entity!.metadata.namespace ?? 'default',
        });
        owners.add(
          `${ref.kind.toLocaleLowerCase('en-US')}:${ref.namespace}/${ref.name}`,
        );
      } catch {
        // An unparsable owner cannot be notified.
      }
    }
    if (retirement.owner) owners.delete(retirement.owner);
    return [...owners];
  }

  private async send(n: PlannedNotification): Promise<void> {
    await this.options.notifications.send({
      recipients: { type: 'entity', entityRef: n.recipients },
      payload: {
        title: n.title,
        description: n.description,
        severity: n.severity,
        topic: NOTIFICATION_TOPIC,
        scope: n.scope,
        link: n.link,
      },
    });
  }
}

function isInteresting(r: EvidenceRecord): boolean {
  return [
    'planned',
    'status',
    'completion',
    'drift',
    'exception',
    'action',
  ].includes(r.kind);
}
