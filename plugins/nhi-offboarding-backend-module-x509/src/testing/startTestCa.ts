/*
 * Test helper: a throwaway OpenSSL CA in a temp folder (`openssl req -x509`,
 * `openssl ca`, an index.txt database, a CA key with a passphrase), client
 * certificates issued by it, a Node TLS server that trusts the CA and loads
 * its CRL, and optionally an `openssl ocsp` responder.
 *
 * `openssl ocsp` listens on every interface whatever URL it is given: it is
 * started for tests only, on a random port, and stopped by its pid.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect, type Server } from 'node:tls';
import { getFreePort } from '@nhi-offboarding/plugin-nhi-offboarding-node/testUtils';

function openssl(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<string>((resolve, reject) => {
    execFile(
      'openssl',
      args,
      { env: { PATH: process.env.PATH, ...env } },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`openssl ${args[0]}: ${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** A certificate issued by the test CA, with its private key (tests only). */
export interface IssuedCert {
  serial: string;
  certFile: string;
  cert: string;
  key: string;
}

export interface TestCa {
  dir: string;
  opensslConfig: string;
  caCert: string;
  caKeyPassphrase: string;
  crlPath: string;
  issue(
    commonName: string,
    options?: { san?: string; extensions?: string },
  ): Promise<IssuedCert>;
  /** Starts an OCSP responder for the CA (it reads index.txt at start). */
  startOcsp(): Promise<{ url: string; stop(): Promise<void> }>;
  stop(): Promise<void>;
}

const CNF = (dir: string) => `[ ca ]
default_ca = CA_default
[ CA_default ]
dir = ${dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 30
default_crl_days = 30
policy = policy_any
unique_subject = no
copy_extensions = copy
[ policy_any ]
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
[ client ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
[ server ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
[ ocsp ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = OCSPSigning
`;

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>(resolve => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Resolves when openssl ocsp says it is waiting for clients. (Probing the
 * port would not do: the responder serves one connection at a time and
 * would wait for the probe's request.)
 */
function waitForResponder(child: ChildProcess, timeoutMs: number) {
  return new Promise<void>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () => reject(new Error(`OCSP responder did not start: ${text}`)),
      timeoutMs,
    );
    child.stderr!.setEncoding('utf8').on('data', d => {
      text += d;
      if (/waiting for OCSP client connections/.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', code => {
      clearTimeout(timer);
      reject(new Error(`OCSP responder exited with ${code}: ${text}`));
    });
  });
}

/** Builds a CA with a passphrase-protected EC key and an empty CRL. */
export async function startTestCa(): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'nhi-x509-'));
  const passphrase = `ca-${randomBytes(12).toString('hex')}`;
  const env = { NHI_TEST_CA_PASS: passphrase };
  const pass = ['-passin', 'env:NHI_TEST_CA_PASS'];
  const cfg = join(dir, 'openssl.cnf');
  await mkdir(join(dir, 'newcerts'));
  await mkdir(join(dir, 'work'));
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'serial'), '1000\n');
  await writeFile(join(dir, 'crlnumber'), '1000\n');
  await writeFile(cfg, CNF(dir));
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-keyout',
      join(dir, 'ca.key'),
      '-passout',
      'env:NHI_TEST_CA_PASS',
      '-out',
      join(dir, 'ca.crt'),
      '-days',
      '3',
      '-subj',
      '/CN=NHI Offboarding test CA',
    ],
    env,
  );
  await openssl(
    ['ca', '-config', cfg, ...pass, '-gencrl', '-out', join(dir, 'crl.pem')],
    env,
  );
  const children: ChildProcess[] = [];
  let n = 0;
  const issue: TestCa['issue'] = async (commonName, options = {}) => {
    const base = join(dir, 'work', `c${++n}`);
    await openssl([
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.csr`,
      '-subj',
      `/CN=${commonName.replace(/\//g, '\\/')}`,
      ...(options.san ? ['-addext', `subjectAltName=${options.san}`] : []),
    ]);
    await openssl(
      [
        'ca',
        '-batch',
        '-config',
        cfg,
        ...pass,
        '-extensions',
        options.extensions ?? 'client',
        '-in',
        `${base}.csr`,
        '-out',
        `${base}.crt`,
      ],
      env,
    );
    const serial = (
      await openssl(['x509', '-in', `${base}.crt`, '-noout', '-serial'])
    )
      .trim()
      .replace(/^serial=/, '');
    return {
      serial,
      certFile: join(dir, 'newcerts', `${serial}.pem`),
      cert: await readFile(`${base}.crt`, 'utf8'),
      key: await readFile(`${base}.key`, 'utf8'),
    };
  };
  return {
    dir,
    opensslConfig: cfg,
    caCert: join(dir, 'ca.crt'),
    caKeyPassphrase: passphrase,
    crlPath: join(dir, 'crl.pem'),
    issue,
    async startOcsp() {
      const signer = await issue('NHI test OCSP signer', {
        extensions: 'ocsp',
      });
      await writeFile(join(dir, 'work', 'ocsp.key'), signer.key);
      const port = await getFreePort();
      const child = spawn(
        'openssl',
        [
          'ocsp',
          '-index',
          join(dir, 'index.txt'),
          '-url',
          `http://127.0.0.1:${port}`,
          '-rsigner',
          signer.certFile,
          '-rkey',
          join(dir, 'work', 'ocsp.key'),
          '-CA',
          join(dir, 'ca.crt'),
          '-ignore_err',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      children.push(child);
      await waitForResponder(child, 5000);
      return {
        url: `http://127.0.0.1:${port}`,
        stop: () => stopProcess(child),
      };
    },
    async stop() {
      await Promise.all(children.map(stopProcess));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TLS server that trusts the CA and loads its CRL as Node's `crl` option,
 * asks for a client certificate and answers each connection with `OK` or
 * the `authorizationError` of the client's certificate.
 */
export async function startTlsServer(ca: TestCa): Promise<{
  port: number;
  /** Loads the current CRL file (new handshakes use it). */
  reloadCrl(): Promise<void>;
  /** Connections accepted and still open. */
  open: Set<import('node:tls').TLSSocket>;
  stop(): Promise<void>;
}> {
  const server = await ca.issue('127.0.0.1', { extensions: 'server' });
  const context = async () => ({
    key: server.key,
    cert: server.cert,
    ca: await readFile(ca.caCert, 'utf8'),
    crl: await readFile(ca.crlPath, 'utf8'),
  });
  const open = new Set<import('node:tls').TLSSocket>();
  const tls: Server = createServer({
    ...(await context()),
    requestCert: true,
    rejectUnauthorized: false,
  });
  tls.on('secureConnection', socket => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {});
    socket.write(
      socket.authorized ? 'OK\n' : `${String(socket.authorizationError)}\n`,
    );
  });
  await new Promise<void>(resolve => tls.listen(0, '127.0.0.1', resolve));
  const address = tls.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    open,
    async reloadCrl() {
      tls.setSecureContext(await context());
    },
    async stop() {
      for (const s of open) s.destroy();
      await new Promise<void>(resolve => tls.close(() => resolve()));
    },
  };
}

/** Handshakes as a client certificate and returns the server's answer line. */
export function handshake(
  port: number,
  client: { cert: string; key: string },
  caCert: string,
): Promise<{ answer: string; socket: import('node:tls').TLSSocket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      cert: client.cert,
      key: client.key,
      ca: caCert,
      checkServerIdentity: () => undefined,
    });
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', d => {
      buffer += d;
      if (buffer.includes('\n')) resolve({ answer: buffer.trim(), socket });
    });
    socket.on('error', reject);
  });
}
