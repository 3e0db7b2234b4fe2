import { type ReactNode } from 'react';
import {
  TestApiProvider,
  mockApis,
  renderInTestApp,
} from '@backstage/test-utils';
import {
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { Entity } from '@backstage/catalog-model';
import { SWRConfig } from 'swr';
import { identityApiRef } from '@backstage/core-plugin-api';
import { nhiOffboardingApiRef, type NhiOffboardingApi } from '../api';
import { entity as defaultEntity } from './fixtures';

export interface RenderOptions {
  api: Partial<NhiOffboardingApi>;
  /** Permission names to deny; everything else is allowed. */
  deny?: string[];
  entity?: Entity | null;
  /** The signed-in user (default `user:default/test`). */
  user?: string;
  /** The signed-in user's ownership refs (default: the user alone). */
  ownership?: string[];
}

/** Renders inside a test app with the plugin's API, permissions and an entity. */
export function render(element: ReactNode, options: RenderOptions) {
  const deny = new Set(options.deny ?? []);
  const permissionApi = mockApis.permission({
    authorize: request =>
      deny.has(request.permission.name)
        ? AuthorizeResult.DENY
        : AuthorizeResult.ALLOW,
  });
  const entity = options.entity === undefined ? defaultEntity : options.entity;
  // usePermission caches answers in SWR's global cache: give every render
  // its own, so one test's denial does not leak into the next.
  return renderInTestApp(
    <SWRConfig value={{ provider: () => new Map() }}>
      <TestApiProvider
        apis={[
          [nhiOffboardingApiRef, options.api],
          [permissionApiRef, permissionApi],
          [
            identityApiRef,
            mockApis.identity({
              userEntityRef: options.user ?? 'user:default/test',
              ownershipEntityRefs: options.ownership,
            }),
          ],
        ]}
      >
        {entity ? (
          <EntityProvider entity={entity}>{element}</EntityProvider>
        ) : (
          element
        )}
      </TestApiProvider>
    </SWRConfig>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}
