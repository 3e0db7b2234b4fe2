import { parseEntityRef } from '@backstage/catalog-model';
import type { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import {
  NHI_PLUGIN_ID,
  type EvidencePage,
  type EvidenceRecord,
  type RetirementStepPage,
  type StepStatus,
  type EvidenceVerification,
  type PlannedStep,
  type ResidualAccessItem,
  type Retirement,
  type StepException,
  type TrustAnchor,
  type TriggerFiring,
  type TriggerFiringStatus,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { NhiOffboardingApi } from './NhiOffboardingApi';
import type {
  GovernanceFindings,
  OwnershipProposal,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type {
  DeadlineList,
  GovernanceFindingsQuery,
  RetirementGovernance,
  ReverificationVerdict,
  DiscoveryProblem,
  ExceptionDecision,
  ExceptionListItem,
  ListRetirementsQuery,
  NhiOffboardingStats,
  PlanRetirementRequest,
  ProviderInfo,
  ReleaseOutcome,
  RequestExceptionRequest,
  RetirementPlan,
  StartRetirementRequest,
  TrustAnchorList,
} from './types';

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  query?: Query;
  body?: unknown;
  accept?: string;
}

/** Encodes each path segment; `/` separates segments. */
function path(strings: TemplateStringsArray, ...values: string[]): string {
  return strings.reduce(
    (acc, part, i) =>
      acc + part + (i < values.length ? encodeURIComponent(values[i]) : ''),
    '',
  );
}

function entityPath(entityRef: string): string {
  const { kind, namespace, name } = parseEntityRef(entityRef);
  return path`/entities/${kind.toLocaleLowerCase(
    'en-US',
  )}/${namespace}/${name}`;
}

/**
 * Talks to the nhi-offboarding backend through the discovery and fetch APIs
 * (so requests carry the user's Backstage token).
 *
 * @public
 */
export class NhiOffboardingClient implements NhiOffboardingApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
  }

  private async send(
    relativePath: string,
    options: RequestOptions = {},
  ): Promise<Response> {
    const baseUrl = await this.discoveryApi.getBaseUrl(NHI_PLUGIN_ID);
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') {
        params.set(key, String(value));
      }
    }
    const search = params.toString();
    const headers: Record<string, string> = {
      Accept: options.accept ?? 'application/json',
    };
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
    }
    const response = await this.fetchApi.fetch(
      `${baseUrl}${relativePath}${search ? `?${search}` : ''}`,
      {
        method: options.method ?? 'GET',
        headers,
        body:
          options.body === undefined ? undefined : JSON.stringify(options.body),
      },
    );
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return response;
  }

  private async json<T>(
    relativePath: string,
    options?: RequestOptions,
  ): Promise<T> {
    const response = await this.send(relativePath, options);
    return (await response.json()) as T;
  }

  async getTrustAnchors(
    entityRef: string,
    options?: { refresh?: boolean },
  ): Promise<TrustAnchorList> {
    const result = await this.json<{
      items: TrustAnchor[];
      problems?: DiscoveryProblem[];
    }>(`${entityPath(entityRef)}/trust-anchors`, {
      query: { refresh: options?.refresh ? 'true' : undefined },
    });
    return { items: result.items, problems: result.problems ?? [] };
  }

  async planRetirement(
    entityRef: string,
    request: PlanRetirementRequest,
  ): Promise<RetirementPlan> {
    const result = await this.json<{
      steps: PlannedStep[];
      problems?: DiscoveryProblem[];
    }>(`${entityPath(entityRef)}/plan`, { method: 'POST', body: request });
    return { steps: result.steps, problems: result.problems ?? [] };
  }

  async startRetirement(request: StartRetirementRequest): Promise<Retirement> {
    return this.json('/retirements', { method: 'POST', body: request });
  }

  async listRetirements(
    query: ListRetirementsQuery = {},
  ): Promise<{ items: Retirement[]; nextCursor?: string }> {
    return this.json('/retirements', { query: { ...query } });
  }

  async getRetirement(id: string): Promise<Retirement> {
    return this.json(path`/retirements/${id}`);
  }

  async getRetirementSteps(
    id: string,
    query: { limit?: number; cursor?: string; status?: StepStatus[] } = {},
  ): Promise<RetirementStepPage> {
    return this.json(path`/retirements/${id}/steps`, {
      query: {
        limit: query.limit,
        cursor: query.cursor,
        status: query.status?.join(','),
      },
    });
  }

  async cancelRetirement(id: string, reason?: string): Promise<Retirement> {
    return this.json(path`/retirements/${id}/cancel`, {
      method: 'POST',
      body: reason ? { reason } : {},
    });
  }

  async retryRetirement(id: string): Promise<Retirement> {
    return this.json(path`/retirements/${id}/retry`, {
      method: 'POST',
      body: {},
    });
  }

  async releaseQuarantine(
    id: string,
    outcome: ReleaseOutcome,
  ): Promise<Retirement> {
    return this.json(path`/retirements/${id}/release`, {
      method: 'POST',
      body: { outcome },
    });
  }

  async placeLegalHold(id: string, reason: string): Promise<Retirement> {
    return this.json(path`/retirements/${id}/hold`, {
      method: 'POST',
      body: { reason },
    });
  }

  async liftLegalHold(id: string, reason?: string): Promise<Retirement> {
    return this.json(path`/retirements/${id}/hold`, {
      method: 'DELETE',
      body: reason ? { reason } : {},
    });
  }

  async requestException(
    id: string,
    stepId: string,
    request: RequestExceptionRequest,
  ): Promise<StepException> {
    return this.json(path`/retirements/${id}/steps/${stepId}/exception`, {
      method: 'POST',
      body: request,
    });
  }

  async decideException(
    id: string,
    stepId: string,
    decision: ExceptionDecision,
    note?: string,
  ): Promise<StepException> {
    return this.json(
      path`/retirements/${id}/steps/${stepId}/exception/${decision}`,
      { method: 'POST', body: note ? { note } : {} },
    );
  }

  async attestStep(
    id: string,
    stepId: string,
    note: string,
  ): Promise<Retirement> {
    return this.json(path`/retirements/${id}/steps/${stepId}/attest`, {
      method: 'POST',
      body: { note },
    });
  }

  async getEvidence(id: string): Promise<EvidenceRecord[]> {
    const result = await this.json<{ items: EvidenceRecord[] }>(
      path`/retirements/${id}/evidence`,
      { query: { format: 'export' } },
    );
    return result.items;
  }

  async getEvidencePage(
    id: string,
    query: { limit?: number; afterSeq?: number } = {},
  ): Promise<EvidencePage> {
    return this.json(path`/retirements/${id}/evidence`, {
      query: { limit: query.limit, afterSeq: query.afterSeq },
    });
  }

  async getEvidenceCsv(id: string): Promise<string> {
    const response = await this.send(path`/retirements/${id}/evidence`, {
      query: { format: 'csv' },
      accept: 'text/csv',
    });
    return response.text();
  }

  async verifyEvidence(id: string): Promise<EvidenceVerification> {
    return this.json(path`/retirements/${id}/evidence/verify`);
  }

  async getResidualAccess(): Promise<ResidualAccessItem[]> {
    // Follows nextCursor: a page stops after a bounded scan, so one
    // request is not the whole estate.
    const items: ResidualAccessItem[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.getResidualAccessPage({ cursor });
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }

  async getResidualAccessPage(
    query: { limit?: number; cursor?: string } = {},
  ): Promise<{ items: ResidualAccessItem[]; nextCursor?: string }> {
    return this.json('/residual-access', {
      query: { limit: query.limit, cursor: query.cursor },
    });
  }

  async listExceptions(
    query: { status?: StepException['status'] } = {},
  ): Promise<ExceptionListItem[]> {
    const result = await this.json<{ items: ExceptionListItem[] }>(
      '/exceptions',
      { query: { ...query } },
    );
    return result.items;
  }

  async getProviders(): Promise<ProviderInfo[]> {
    const result = await this.json<{ items: ProviderInfo[] }>('/providers');
    return result.items;
  }

  async getStats(): Promise<NhiOffboardingStats | undefined> {
    try {
      return await this.json<NhiOffboardingStats>('/stats');
    } catch (error) {
      if (ResponseError.is(error) && error.statusCode === 404) {
        return undefined;
      }
      throw error;
    }
  }

  async getRetirementGovernance(id: string): Promise<RetirementGovernance> {
    return this.json(path`/retirements/${id}/governance`);
  }

  async reverifyRetirement(
    id: string,
  ): Promise<{ verdict: ReverificationVerdict; retirement: Retirement }> {
    return this.json(path`/retirements/${id}/reverify`, {
      method: 'POST',
      body: {},
    });
  }

  async reassignOwnership(
    id: string,
    anchorId: string,
    owner: string,
  ): Promise<OwnershipProposal[]> {
    const result = await this.json<{ items: OwnershipProposal[] }>(
      path`/retirements/${id}/ownership`,
      { method: 'POST', body: { anchorId, owner } },
    );
    return result.items;
  }

  async getRetirementExport(id: string): Promise<string> {
    const response = await this.send(path`/retirements/${id}/export`);
    return response.text();
  }

  async getPeriodExport(from: Date, to: Date): Promise<string> {
    const response = await this.send('/export', {
      query: { from: from.toISOString(), to: to.toISOString() },
    });
    return response.text();
  }

  async getGovernanceFindings(
    query: GovernanceFindingsQuery = {},
  ): Promise<GovernanceFindings | undefined> {
    try {
      return await this.json<GovernanceFindings>('/governance/anchors', {
        query: { reason: query.reason, owner: query.owners?.join(',') },
      });
    } catch (error) {
      if (ResponseError.is(error) && error.statusCode === 404) {
        return undefined;
      }
      throw error;
    }
  }

  async getDeadlines(
    query: { breached?: boolean } = {},
  ): Promise<DeadlineList> {
    return this.json('/governance/deadlines', {
      query: { breached: query.breached ? 'true' : undefined },
    });
  }

  async listTriggerFirings(
    query: {
      entityRef?: string;
      status?: TriggerFiringStatus;
      limit?: number;
    } = {},
  ): Promise<TriggerFiring[]> {
    const result = await this.json<{ items: TriggerFiring[] }>(
      '/triggers/firings',
      { query: { ...query } },
    );
    return result.items;
  }

  async confirmProposal(id: string): Promise<TriggerFiring> {
    return this.json(path`/triggers/firings/${id}/confirm`, {
      method: 'POST',
      body: {},
    });
  }

  async dismissProposal(id: string, reason?: string): Promise<TriggerFiring> {
    return this.json(path`/triggers/firings/${id}/dismiss`, {
      method: 'POST',
      body: reason ? { reason } : {},
    });
  }
}
