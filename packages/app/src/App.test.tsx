import { createElement } from 'react';
import { screen } from '@testing-library/react';
import { renderWithEffects } from '@backstage/test-utils';
import App from './App';

describe('App', () => {
  beforeEach(() => {
    process.env = {
      ...process.env,
      APP_CONFIG: [
        {
          context: 'test',
          data: {
            app: { title: 'NHI Offboarding', baseUrl: 'http://localhost:3000' },
            backend: { baseUrl: 'http://localhost:7007' },
          },
        },
      ] as any,
    };
  });

  it('renders the sign-in page with the guest provider', async () => {
    const rendered = await renderWithEffects(createElement(App));
    expect(rendered.baseElement).toBeInTheDocument();
    expect(
      await screen.findByRole('heading', { level: 1, name: 'NHI Offboarding' }),
    ).toBeInTheDocument();
    expect(
      screen.getByText('Development sign-in (guest provider)'),
    ).toBeInTheDocument();
    expect(screen.getByText('Guest')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Enter' })).toBeInTheDocument();
  });
});
