import fs from 'fs';
import path from 'path';
import YAML from 'yaml';
import { mockServices } from '@backstage/backend-test-utils';
import { createRouter, RouterOptions } from '../service/router';

/** The OpenAPI description and the router must describe the same API. */
describe('openapi.yaml', () => {
  const spec = YAML.parse(
    fs.readFileSync(path.join(__dirname, 'openapi.yaml'), 'utf8'),
  );

  function specRoutes(): string[] {
    const routes: string[] = [];
    for (const [p, ops] of Object.entries<Record<string, unknown>>(
      spec.paths,
    )) {
      for (const method of Object.keys(ops)) {
        if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) {
          routes.push(
            `${method.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`,
          );
        }
      }
    }
    return routes.sort();
  }

  async function routerRoutes(): Promise<string[]> {
    const router = await createRouter({
      httpAuth: mockServices.httpAuth(),
      auth: mockServices.auth(),
      permissions: mockServices.permissions(),
      auditor: mockServices.auditor.mock(),
    } as unknown as RouterOptions);
    const routes: string[] = [];
    for (const layer of (router as any).stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) {
          routes.push(`${method.toUpperCase()} ${layer.route.path}`);
        }
      }
    }
    return routes.sort();
  }

  it('documents every route the router serves, and no other', async () => {
    expect(specRoutes()).toEqual(await routerRoutes());
  });

  it('resolves every $ref', () => {
    const text = JSON.stringify(spec);
    const refs = [...text.matchAll(/"\$ref":"#\/([^"]+)"/g)].map(m => m[1]);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) {
      const target = ref
        .split('/')
        .reduce((node: any, key) => node?.[key], spec);
      expect({ ref, found: target !== undefined }).toEqual({
        ref,
        found: true,
      });
    }
  });

  it('gives every operation an id and an error response', () => {
    for (const [p, ops] of Object.entries<Record<string, any>>(spec.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        expect({
          route: `${method} ${p}`,
          operationId: typeof op.operationId,
        }).toEqual({
          route: `${method} ${p}`,
          operationId: 'string',
        });
        const codes = Object.keys(op.responses);
        expect(codes.some(c => c.startsWith('4'))).toBe(true);
      }
    }
  });
});
