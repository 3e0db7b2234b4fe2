import '@testing-library/jest-dom';

// Rendering Backstage's test app with MUI tables and dialogs is slow on
// small CI machines (two cores), more so when test files run in parallel.
jest.setTimeout(20_000);
