import { createHash } from 'crypto';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { EventParams } from '@backstage/plugin-events-node';
import type { TriggerOptions } from './readTriggerOptions';
import type { TriggerService } from './TriggerService';
import type { TriggerStore } from './TriggerStore';
import { retireEventPayload } from './retireEventPayload';

/**
 * The event trigger: HR, contractor-management or workload-retirement
 * systems publish on the configured topic. A bad payload is logged and
 * recorded as a rejected firing; it never throws (the bus would redeliver
 * it forever). Errors of our own (database) do throw, so the bus retries
 * and the unique key keeps the retry from starting a second retirement.
 */
export class EventsTrigger {
  constructor(
    private readonly options: {
      config: TriggerOptions['events'];
      service: TriggerService;
      triggers: TriggerStore;
      logger: LoggerService;
      clock?: () => Date;
    },
  ) {}

  async onEvent(event: EventParams): Promise<void> {
    const { config, service, logger } = this.options;
    const parsed = retireEventPayload.safeParse(event.eventPayload);
    if (!parsed.success) {
      const problems = parsed.error.issues
        .map(i => `${i.path.join('.') || 'payload'}: ${i.message}`)
        .join('; ');
      logger.warn(`Ignored event on ${event.topic}: ${problems}`);
      await this.options.triggers.record(
        {
          key: `event:invalid:${digest(event.eventPayload)}`,
          trigger: 'event',
          entityRef: refOrUnknown(event.eventPayload),
          action: config.action,
          status: 'rejected',
          detail: `invalid payload on ${event.topic}: ${problems}`.slice(
            0,
            2000,
          ),
          mode: config.mode,
          reason: 'invalid event',
        },
        this.options.clock?.() ?? new Date(),
      );
      return;
    }
    const p = parsed.data;
    // An event may ask for less than the configuration (a proposal), never more.
    const action =
      config.action === 'propose' ? 'propose' : p.action ?? config.action;
    const mode = p.mode ?? config.mode;
    await service.fire({
      key: `event:${p.source}:${p.id}`,
      trigger: 'event',
      entityRef: stringifyEntityRef(parseEntityRef(p.entityRef)),
      action,
      mode,
      quarantineDays:
        mode === 'quarantine'
          ? p.quarantineDays ?? config.quarantineDays
          : undefined,
      detail: `event ${p.id} from ${p.source} on ${event.topic}`,
      reason: p.reason,
    });
  }
}

function digest(payload: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(payload) ?? String(payload);
  } catch {
    text = String(payload);
  }
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

function refOrUnknown(payload: unknown): string {
  const ref = (payload as { entityRef?: unknown } | null)?.entityRef;
  return typeof ref === 'string' ? ref.slice(0, 200) : '(unknown)';
}
