import plugin from './alpha';

describe('alpha', () => {
  it('declares the plugin with its API, page, entity content and menu item', () => {
    expect(plugin.pluginId).toBe('nhi-offboarding');
    expect(plugin.getExtension('api:nhi-offboarding')).toBeDefined();
    expect(plugin.getExtension('page:nhi-offboarding')).toBeDefined();
    expect(
      plugin.getExtension('entity-content:nhi-offboarding/retire'),
    ).toBeDefined();
    expect(
      plugin.getExtension('entity-context-menu-item:nhi-offboarding/retire'),
    ).toBeDefined();
  });
});
