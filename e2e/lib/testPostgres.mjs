/*
 * The project's throwaway PostgreSQL cluster with SCRAM authentication
 * (plugins/nhi-offboarding-backend/src/providers/postgres/testing/
 * startTestPostgres.ts), for end-to-end tests written in plain JavaScript:
 * a child process runs the TypeScript helper, prints the connection and
 * stops the cluster when its stdin closes.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { root, requireFromRoot } from './backendProcess.mjs';

const helper = path.join(
  root,
  'plugins/nhi-offboarding-backend/src/providers/postgres/testing/startTestPostgres.ts',
);

const script = `
const { startTestPostgres } = require(${JSON.stringify(helper)});
startTestPostgres().then(pg => {
  const { stop, ...info } = pg;
  process.stdout.write(JSON.stringify(info) + '\\n');
  process.stdin.resume();
  process.stdin.on('end', () => stop().then(() => process.exit(0)));
}, error => { console.error(error); process.exit(1); });
`;

/** Starts the cluster; `stop()` ends it and removes its folder. */
export async function startTestPostgres() {
  const child = spawn(
    process.execPath,
    [
      '--require',
      requireFromRoot.resolve('@backstage/cli-node/config/nodeTransform.cjs'),
      '-e',
      script,
    ],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise(resolve => child.once('exit', resolve));
  const info = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', d => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve(JSON.parse(line));
    });
    child.once('exit', code =>
      reject(new Error(`the PostgreSQL helper exited with ${code}`)),
    );
  });
  return {
    ...info,
    async stop() {
      child.stdin.end();
      await exited;
    },
  };
}
