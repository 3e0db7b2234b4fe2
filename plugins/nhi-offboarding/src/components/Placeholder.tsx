import { Content, EmptyState } from '@backstage/core-components';

export const PlatformPlaceholder = () => (
  <Content>
    <EmptyState missing="content" title="NHI Offboarding" description="The platform page is coming." />
  </Content>
);

export const RetirePlaceholder = () => (
  <EmptyState missing="content" title="Retire" description="The Retire tab is coming." />
);
