/*
 * Test helper: a throwaway OpenLDAP slapd (Debian package `slapd`, 2.5) on a
 * free loopback port, started from a temp folder with its own slapd.conf:
 * mdb backend, ppolicy overlay with lockout (2.5 builds the ppolicy schema
 * into the overlay: no ppolicy.schema include), `lastbind on`
 * (pwdLastSuccess), and the lock ACL that refuses every operation of a
 * connection bound as a locked account. Data is loaded with slapadd before
 * the start. slapd runs in the foreground (`-d 0`) as a child of the test
 * and is stopped by its pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort } from '@nhi-offboarding/plugin-nhi-offboarding-node/testUtils';

/** A running slapd for tests. */
export interface TestSlapd {
  description: string;
  url: string;
  port: number;
  suffix: string;
  /** The rootdn (bypasses ACLs): for test setup only. */
  rootDN: string;
  rootPassword: string;
  /** The provider's admin: write access by ACL, not the rootdn. */
  adminDN: string;
  adminPassword: string;
  /** An admin with read access only. */
  readerDN: string;
  readerPassword: string;
  servicesDN: string;
  groupsDN: string;
  policyDN: string;
  /** Stops slapd (by pid) and removes its folder. */
  stop(): Promise<void>;
}

export interface StartTestSlapdOptions {
  /** Install the lock ACL (default true). */
  lockAcl?: boolean;
}

function findBinary(name: string): string | undefined {
  for (const dir of [
    ...(process.env.PATH ?? '').split(':'),
    '/usr/sbin',
    '/usr/local/sbin',
  ]) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

async function waitForPort(
  port: number,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  child.once('exit', code => {
    exited = code;
  });
  for (;;) {
    if (exited !== undefined) throw new Error(`slapd exited with ${exited}`);
    const up = await new Promise<boolean>(resolve => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > until) throw new Error('slapd did not start');
    await new Promise(r => setTimeout(r, 20));
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>(resolve => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts a throwaway slapd. Throws with the reason when it cannot. */
export async function startTestSlapd(
  options: StartTestSlapdOptions = {},
): Promise<TestSlapd> {
  const slapd = findBinary('slapd');
  const slapadd = findBinary('slapadd');
  if (!slapd || !slapadd || !existsSync('/usr/lib/ldap/ppolicy.la')) {
    throw new Error(
      'slapd, slapadd or the ppolicy module is missing: apt-get install slapd ldap-utils (listed in scripts/test-system-packages.txt)',
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'nhi-slapd-'));
  const suffix = 'dc=nhi,dc=test';
  const rootDN = `cn=root,${suffix}`;
  const adminDN = `cn=nhi-offboarding,ou=system,${suffix}`;
  const readerDN = `cn=reader,ou=system,${suffix}`;
  const servicesDN = `ou=services,${suffix}`;
  const groupsDN = `ou=groups,${suffix}`;
  const policyDN = `cn=default,ou=policies,${suffix}`;
  const rootPassword = randomBytes(12).toString('hex');
  const adminPassword = randomBytes(12).toString('hex');
  const readerPassword = randomBytes(12).toString('hex');
  const conf = join(dir, 'slapd.conf');
  try {
    await mkdir(join(dir, 'data'));
    await writeFile(
      conf,
      [
        'include /etc/ldap/schema/core.schema',
        'include /etc/ldap/schema/cosine.schema',
        'include /etc/ldap/schema/inetorgperson.schema',
        'include /etc/ldap/schema/nis.schema',
        'modulepath /usr/lib/ldap',
        'moduleload back_mdb.la',
        'moduleload ppolicy.la',
        `pidfile ${join(dir, 'slapd.pid')}`,
        `argsfile ${join(dir, 'slapd.args')}`,
        'database mdb',
        `suffix "${suffix}"`,
        `rootdn "${rootDN}"`,
        `rootpw ${rootPassword}`,
        `directory ${join(dir, 'data')}`,
        'maxsize 20971520',
        'lastbind on',
        'overlay ppolicy',
        `ppolicy_default "${policyDN}"`,
        'ppolicy_use_lockout',
        // The lock ACL: a connection bound as an account that has
        // pwdAccountLockedTime is refused everything, checked per operation.
        ...(options.lockAcl === false
          ? []
          : ['access to * by set="user/pwdAccountLockedTime" none by * break']),
        `access to attrs=userPassword by dn.exact="${adminDN}" write by dn.exact="${readerDN}" read by self write by anonymous auth by * none`,
        `access to * by dn.exact="${adminDN}" write by dn.exact="${readerDN}" read by users read by * none`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const ldif = [
      `dn: ${suffix}\nobjectClass: dcObject\nobjectClass: organization\no: nhi\ndc: nhi`,
      `dn: ou=policies,${suffix}\nobjectClass: organizationalUnit\nou: policies`,
      `dn: ${policyDN}\nobjectClass: device\nobjectClass: pwdPolicy\ncn: default\npwdAttribute: userPassword\npwdLockout: TRUE\npwdMaxFailure: 5`,
      `dn: ou=system,${suffix}\nobjectClass: organizationalUnit\nou: system`,
      `dn: ${adminDN}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\ncn: nhi-offboarding\nuserPassword: ${adminPassword}`,
      `dn: ${readerDN}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: ${readerPassword}`,
      `dn: ${servicesDN}\nobjectClass: organizationalUnit\nou: services`,
      `dn: ${groupsDN}\nobjectClass: organizationalUnit\nou: groups`,
      '',
    ].join('\n\n');
    await writeFile(join(dir, 'base.ldif'), ldif, { mode: 0o600 });
    const added = spawnSync(
      slapadd,
      ['-f', conf, '-l', join(dir, 'base.ldif')],
      { encoding: 'utf8' },
    );
    if (added.status !== 0) {
      throw new Error(`slapadd failed: ${added.stderr}`);
    }
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await getFreePort();
      const url = `ldap://127.0.0.1:${port}`;
      const child = spawn(slapd, ['-d', '0', '-f', conf, '-h', `${url}/`], {
        stdio: 'ignore',
      });
      try {
        await waitForPort(port, child, 10_000);
      } catch (err) {
        lastError = err;
        await stopProcess(child);
        continue;
      }
      return {
        description: `own throwaway slapd (${slapd}) on ${url}, pid ${child.pid}, folder ${dir}`,
        url,
        port,
        suffix,
        rootDN,
        rootPassword,
        adminDN,
        adminPassword,
        readerDN,
        readerPassword,
        servicesDN,
        groupsDN,
        policyDN,
        stop: async () => {
          await stopProcess(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    throw lastError;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
