import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A time-stamping authority on loopback, for tests and benchmarks: OpenSSL's `ts -reply` behind HTTP. */
export interface LocalTsa {
  /** `http://127.0.0.1:<port>/tsr` */
  readonly url: string;
  /** PEM of the TSA's root CA: the trust list that accepts its tokens. */
  readonly rootPem: string;
  /** Requests answered with a token so far. */
  readonly issued: number;
  /**
   * `'up'` answers; `'down'` refuses every request with HTTP 503; `'hang'` holds requests without an answer
   * until the mode changes (a slow TSA).
   */
  mode: 'up' | 'down' | 'hang';
  close(): Promise<void>;
}

const CONFIG = (dir: string): string => `
[ tsa ]
default_tsa = local_tsa
[ local_tsa ]
dir = ${dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/chain.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.3161.1
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
[ tsa_ext ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ca_ext ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
`;

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

// The TSA's own PKI: a root CA and a signing certificate with the critical timeStamping usage RFC 3161
// requires, so tokens chain to a trust list the tests hold.
async function issueTsaCertificates(dir: string, cnf: string, name: string): Promise<void> {
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  await openssl(
    [
      'req',
      '-new',
      '-x509',
      '-key',
      'ca.key',
      '-subj',
      `/O=Passerelle tests/CN=${name} root`,
      '-days',
      '30',
      '-config',
      cnf,
      '-extensions',
      'ca_ext',
      '-out',
      'ca.crt',
    ],
    dir,
  );
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'tsa.key'], dir);
  await openssl(
    ['req', '-new', '-key', 'tsa.key', '-subj', `/O=Passerelle tests/CN=${name}`, '-out', 'tsa.csr'],
    dir,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      'tsa.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '30',
      '-extfile',
      cnf,
      '-extensions',
      'tsa_ext',
      '-out',
      'tsa.crt',
    ],
    dir,
  );
}

/**
 * Makes a TSA on loopback with its own root CA (EC P-256) and signing certificate (critical extended key
 * usage timeStamping), answering RFC 3161 requests by running `openssl ts -reply`, one at a time. Nothing
 * leaves the machine.
 *
 * @example
 * ```ts
 * const tsa = await startLocalTsa();
 * const client = createTsaClient({ url: tsa.url, trust: parseTsaTrust(tsa.rootPem) });
 * ```
 */
export async function startLocalTsa(options: { name?: string } = {}): Promise<LocalTsa> {
  const dir = await mkdtemp(join(tmpdir(), 'pex-tsa-'));
  const name = options.name ?? 'Passerelle test TSA';
  await writeFile(join(dir, 'tsa.cnf'), CONFIG(dir));
  await writeFile(join(dir, 'serial'), '01\n');
  const cnf = join(dir, 'tsa.cnf');
  await issueTsaCertificates(dir, cnf, name);
  const rootPem = await readFile(join(dir, 'ca.crt'), 'utf8');
  await writeFile(join(dir, 'chain.pem'), rootPem);

  let issued = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const waiting = new Set<() => void>();
  const state = { mode: 'up' as LocalTsa['mode'] };
  let counter = 0;

  const answer = async (query: Buffer): Promise<Buffer> => {
    const n = counter++;
    const q = join(dir, `q${n}.tsq`);
    const r = join(dir, `r${n}.tsr`);
    await writeFile(q, query);
    try {
      await openssl(['ts', '-reply', '-config', cnf, '-queryfile', q, '-out', r], dir);
      return await readFile(r);
    } finally {
      await rm(q, { force: true });
      await rm(r, { force: true });
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = async (): Promise<void> => {
        while (state.mode === 'hang') await new Promise<void>((resolve) => waiting.add(resolve));
        if (state.mode === 'down' || req.method !== 'POST') {
          res.writeHead(state.mode === 'down' ? 503 : 405);
          res.end();
          return;
        }
        // `openssl ts` keeps its serial in a file: one request at a time
        const run = queue.then(() => answer(Buffer.concat(chunks)));
        queue = run.catch(() => undefined);
        const body = await run;
        issued++;
        res.writeHead(200, { 'content-type': 'application/timestamp-reply' });
        res.end(body);
      };
      reply().catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/tsr`,
    rootPem,
    get issued() {
      return issued;
    },
    get mode() {
      return state.mode;
    },
    set mode(m) {
      state.mode = m;
      for (const w of waiting) w();
      waiting.clear();
    },
    async close() {
      state.mode = 'down';
      for (const w of waiting) w();
      waiting.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
