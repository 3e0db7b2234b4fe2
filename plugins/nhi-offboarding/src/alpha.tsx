import {
  ApiBlueprint,
  PageBlueprint,
  coreApis,
  createFrontendPlugin,
  useApi,
} from '@backstage/frontend-plugin-api';
import {
  compatWrapper,
  convertLegacyRouteRef,
  convertLegacyRouteRefs,
} from '@backstage/core-compat-api';
import {
  EntityContentBlueprint,
  EntityContextMenuItemBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { useAsyncEntity } from '@backstage/plugin-catalog-react';
import { usePermission } from '@backstage/plugin-permission-react';
import { stringifyEntityRef } from '@backstage/catalog-model';
import DeleteSweepIcon from '@material-ui/icons/DeleteSweep';
import PowerOffIcon from '@material-ui/icons/PowerOff';
import { nhiEntityRetirePermission } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { NhiOffboardingClient, nhiOffboardingApiRef } from './api';
import { RetireDialog } from './components/RetireDialog';
import { entityRetireRouteRef, rootRouteRef } from './routes';

/** The REST client. @alpha */
export const nhiOffboardingApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: nhiOffboardingApiRef,
      deps: { discoveryApi: coreApis.discovery, fetchApi: coreApis.fetch },
      factory: ({ discoveryApi, fetchApi }) =>
        new NhiOffboardingClient({ discoveryApi, fetchApi }),
    }),
});

/** The platform page at `/nhi-offboarding`. @alpha */
export const nhiOffboardingPage = PageBlueprint.make({
  params: {
    path: '/nhi-offboarding',
    title: 'NHI Offboarding',
    icon: <PowerOffIcon fontSize="inherit" />,
    routeRef: convertLegacyRouteRef(rootRouteRef),
    loader: () =>
      import('./components/PlatformPage').then(m =>
        compatWrapper(<m.PlatformPage />),
      ),
  },
});

/**
 * The Retire tab on Component and Resource pages; other kinds through the
 * `filter` config of `entity-content:nhi-offboarding/retire`.
 *
 * @alpha
 */
export const nhiOffboardingEntityContent = EntityContentBlueprint.make({
  name: 'retire',
  params: {
    path: 'retire',
    title: 'Retire',
    routeRef: convertLegacyRouteRef(entityRetireRouteRef),
    filter: { kind: { $in: ['component', 'resource'] } },
    loader: () =>
      import('./components/EntityRetireContent').then(m =>
        compatWrapper(<m.EntityRetireContent />),
      ),
  },
});

/** "Retire…" in the entity page's menu. @alpha */
export const nhiOffboardingRetireMenuItem = EntityContextMenuItemBlueprint.make(
  {
    name: 'retire',
    params: {
      icon: <DeleteSweepIcon fontSize="small" />,
      filter: { kind: { $in: ['component', 'resource'] } },
      useProps: () => {
        const dialogApi = useApi(coreApis.dialog);
        const { entity } = useAsyncEntity();
        const permission = usePermission({
          permission: nhiEntityRetirePermission,
          resourceRef: entity ? stringifyEntityRef(entity) : undefined,
        });
        return {
          title: 'Retire…',
          disabled: !entity || !permission.allowed,
          onClick: () => {
            if (!entity) {
              return;
            }
            const dialog = dialogApi.open(
              compatWrapper(
                <RetireDialog
                  open
                  entity={entity}
                  onClose={() => dialog.close()}
                  onStarted={() => dialog.close()}
                />,
              ),
            );
          },
        };
      },
    },
  },
);

/**
 * NHI Offboarding for Backstage's new frontend system.
 *
 * @alpha
 */
export default createFrontendPlugin({
  pluginId: 'nhi-offboarding',
  title: 'NHI Offboarding',
  icon: <PowerOffIcon fontSize="inherit" />,
  extensions: [
    nhiOffboardingApi,
    nhiOffboardingPage,
    nhiOffboardingEntityContent,
    nhiOffboardingRetireMenuItem,
  ],
  routes: convertLegacyRouteRefs({
    root: rootRouteRef,
    entityRetire: entityRetireRouteRef,
  }),
});
