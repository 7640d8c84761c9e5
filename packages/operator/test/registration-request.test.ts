import { createUser } from '@nats-io/nkeys';
import { generateParticipantKeys, toPublicJwk } from '@passerelle/envelope';
import { describe, expect, test } from 'vitest';
import { makeRegistrationRequest, verifyRegistrationRequest } from '../src/internal.js';

const CSR = '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n';
const ID = 'commune-44021';

function tamper(jws: string, edit: (claims: Record<string, unknown>) => void): string {
  const [h, p, s] = jws.split('.');
  const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Record<string, unknown>;
  edit(claims);
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
}

type RequestInput = Parameters<typeof makeRegistrationRequest>[0];

/** Gent's registration request with `keys`, a fresh NATS user unless given, and the test CSR. */
const requestOf = (keys: RequestInput['keys'], extra: Partial<RequestInput> = {}) =>
  makeRegistrationRequest({ keys, natsUser: createUser(), name: 'Stad Gent', csr: CSR, ...extra });

describe('registration requests', () => {
  test('registration - a request signed by its keys is accepted and carries only public material', async () => {
    const keys = await generateParticipantKeys(ID);
    const natsUser = createUser();
    const request = await requestOf(keys, { natsUser });
    const claims = await verifyRegistrationRequest(request);
    expect(claims).toMatchObject({
      participant: ID,
      kind: 'commune',
      natsUser: natsUser.getPublicKey(),
      rotation: false,
    });
    expect(JSON.stringify(request)).not.toMatch(/"d":|SU[A-Z2-7]{56}/);
  });

  test('registration - an altered request, or one whose NATS key did not sign it, is refused', async () => {
    const keys = await generateParticipantKeys(ID);
    const natsUser = createUser();
    const request = await requestOf(keys, { natsUser });
    // another participant id under the same signature
    await expect(
      verifyRegistrationRequest({
        ...request,
        request: tamper(request.request, (c) => (c['participant'] = 'commune-21004')),
      }),
    ).rejects.toMatchObject({ code: 'ERR_REGISTRATION_INVALID' });
    // someone else's NATS key put in: the proof no longer matches
    await expect(
      verifyRegistrationRequest({
        ...request,
        natsProof: Buffer.from(createUser().sign(new TextEncoder().encode(request.request))).toString(
          'base64url',
        ),
      }),
    ).rejects.toMatchObject({ code: 'ERR_REGISTRATION_INVALID' });
    // a request signed by a key it does not present
    const other = await generateParticipantKeys(ID);
    const forged = await requestOf(other, { natsUser });
    await expect(
      verifyRegistrationRequest({
        ...request,
        request: forged.request.split('.').slice(0, 2).join('.') + '.' + request.request.split('.')[2],
      }),
    ).rejects.toMatchObject({ code: 'ERR_REGISTRATION_INVALID' });
  });

  test('registration - a rotation is accepted only when vouched for by a current key of the participant', async () => {
    const current = await generateParticipantKeys(ID);
    const next = await generateParticipantKeys(ID);
    const request = await requestOf(next, { current });
    await expect(
      verifyRegistrationRequest(request, { currentSigning: [toPublicJwk(current.signing)] }),
    ).resolves.toMatchObject({
      rotation: true,
    });
    // an impostor with keys of its own cannot rotate the participant's
    const impostor = await generateParticipantKeys(ID);
    const forged = await requestOf(next, { current: impostor });
    await expect(
      verifyRegistrationRequest(forged, { currentSigning: [toPublicJwk(current.signing)] }),
    ).rejects.toMatchObject({ code: 'ERR_REGISTRATION_INVALID' });
    // nor with a key the directory has ended
    await expect(
      verifyRegistrationRequest(request, {
        currentSigning: [{ ...toPublicJwk(current.signing), notAfter: '2020-01-01T00:00:00Z' }],
      }),
    ).rejects.toMatchObject({ code: 'ERR_REGISTRATION_INVALID' });
  });
});
