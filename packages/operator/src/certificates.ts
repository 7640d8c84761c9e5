import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PasserelleError } from '@passerelle/errors';

const run = promisify(execFile);

/**
 * The participant's TLS client key and certificate request, made where the participant runs: the key
 * never leaves it, the request goes to the operator with its registration. OpenSSL does the cryptography,
 * as scripts/dev-ca.sh does for the development CA.
 */
export async function makeCertificateRequest(participant: string, keyFile: string): Promise<{ csr: string }> {
  await run(process.env['OPENSSL'] ?? 'openssl', [
    'ecparam',
    '-name',
    'prime256v1',
    '-genkey',
    '-noout',
    '-out',
    keyFile,
  ]);
  const { chmod } = await import('node:fs/promises');
  await chmod(keyFile, 0o600);
  const { stdout } = await run(process.env['OPENSSL'] ?? 'openssl', [
    'req',
    '-new',
    '-key',
    keyFile,
    '-subj',
    `/CN=${participant}`,
  ]);
  return { csr: stdout };
}

/** Runs `fn` with a private temporary folder, removed afterwards. */
async function inTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'passerelle-csr-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Checks that `csr` is self-signed by its key (proof of possession) and names `participant` as its
 * common name; `ERR_REGISTRATION_INVALID` otherwise.
 */
export async function checkCertificateRequest(csr: string, participant: string): Promise<void> {
  await inTemp(async (dir) => {
    const file = join(dir, 'request.csr');
    await writeFile(file, csr);
    let subject: string;
    try {
      ({ stdout: subject } = await run(process.env['OPENSSL'] ?? 'openssl', [
        'req',
        '-in',
        file,
        '-noout',
        '-verify',
        '-subject',
        '-nameopt',
        'RFC2253',
      ]));
    } catch (cause) {
      throw new PasserelleError(
        'ERR_REGISTRATION_INVALID',
        `The certificate request of ${participant} is not a self-signed PKCS#10 request.`,
        { details: { participantId: participant }, cause },
      );
    }
    if (subject.trim() !== `subject=CN=${participant}`) {
      throw new PasserelleError(
        'ERR_REGISTRATION_INVALID',
        `The certificate request of ${participant} does not name it alone as its subject.`,
        { details: { participantId: participant } },
      );
    }
  });
}

/**
 * Issues a TLS client certificate for a checked request with the CA in `caDir` (`ca.pem`, `ca.key`: the
 * development CA of scripts/dev-ca.sh; a production operator sends the request to the administration's PKI
 * instead). Returns the certificate (PEM) and the CA certificate the participant trusts.
 */
export async function issueClientCertificate(
  csr: string,
  caDir: string,
  days = 365,
): Promise<{ certificate: string; ca: string }> {
  return inTemp(async (dir) => {
    const request = join(dir, 'request.csr');
    const ext = join(dir, 'ext.cnf');
    const out = join(dir, 'client.pem');
    await writeFile(request, csr);
    await writeFile(
      ext,
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=clientAuth',
        '',
      ].join('\n'),
    );
    await run(process.env['OPENSSL'] ?? 'openssl', [
      'x509',
      '-req',
      '-in',
      request,
      '-CA',
      join(caDir, 'ca.pem'),
      '-CAkey',
      join(caDir, 'ca.key'),
      '-CAserial',
      join(dir, 'ca.srl'),
      '-CAcreateserial',
      '-days',
      String(days),
      '-sha256',
      '-extfile',
      ext,
      '-out',
      out,
    ]);
    return { certificate: await readFile(out, 'utf8'), ca: await readFile(join(caDir, 'ca.pem'), 'utf8') };
  });
}
