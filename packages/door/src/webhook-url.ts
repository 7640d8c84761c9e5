import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { DoorError } from './door-error.js';

/**
 * Where a door's webhooks may go. By default only public addresses over https: a subscriber must not make
 * the door call its own network (SSRF). Link-local addresses (169.254.0.0/16, fe80::/10, where cloud
 * metadata services answer) are refused unless `allowLinkLocal`; loopback (127.0.0.0/8, ::1) unless
 * `allowLoopback` (tests and a receiver on the same host); private ranges (10/8, 172.16/12, 192.168/16,
 * 100.64/10, fc00::/7) unless `allowPrivate` (a receiver inside the administration's network). Plain http
 * only with `allowHttp`.
 */
export interface WebhookUrlPolicy {
  allowHttp?: boolean;
  allowLoopback?: boolean;
  allowPrivate?: boolean;
  allowLinkLocal?: boolean;
}

/** A block list of CIDR ranges (`10.0.0.0/8`, `fe80::/10`). */
function ranges(...cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network = '', prefix] = cidr.split('/');
    list.addSubnet(network, Number(prefix), isIP(network) === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** Never called, whatever the policy: no host is there, or every host is. */
const NEVER = ranges('0.0.0.0/8', '224.0.0.0/4', '240.0.0.0/4', '::/128', 'ff00::/8');
/** Link-local, and the cloud metadata services that answer outside that range. */
const LINK_LOCAL = ranges('169.254.0.0/16', 'fe80::/10', '100.100.100.200/32', 'fd00:ec2::254/128');
const LOOPBACK = ranges('127.0.0.0/8', '::1/128');
const PRIVATE = ranges('10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7');

/** An IPv4 address written as IPv6 (`::ffff:a9fe:a9fe`) is checked as the IPv4 address it is. */
function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(?:([0-9.]+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (mapped?.[1]) return { address: mapped[1], family: 'ipv4' };
  if (mapped?.[2] && mapped[3]) {
    const hi = parseInt(mapped[2], 16);
    const lo = parseInt(mapped[3], 16);
    return { address: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, family: 'ipv4' };
  }
  return { address, family: isIP(address) === 4 ? 'ipv4' : 'ipv6' };
}

/** Why an address is refused under `policy`, or `undefined` if the door may call it. */
export function refusedAddress(raw: string, policy: WebhookUrlPolicy): string | undefined {
  const { address, family } = unmapped(raw);
  if (NEVER.check(address, family)) return 'an unroutable or multicast address';
  if (LINK_LOCAL.check(address, family) && !policy.allowLinkLocal) return 'a link-local or metadata address';
  if (LOOPBACK.check(address, family) && !policy.allowLoopback) return 'a loopback address';
  if (PRIVATE.check(address, family) && !policy.allowPrivate) return 'a private address';
  return undefined;
}

function refused(why: string): DoorError {
  return new DoorError('ERR_WEBHOOK_URL_REFUSED', `The webhook URL is refused: ${why}.`, {
    details: { in: 'body', name: '/url' },
  });
}

/**
 * Checks a webhook URL when it is subscribed: http(s) only, no credentials or fragment, and a host whose
 * every address the policy allows (names are resolved now; deliveries check the address they connect to
 * again, see {@link guardedLookup}, so a name that changes later cannot lead the door elsewhere).
 *
 * @example
 * ```ts
 * const url = await checkWebhookUrl('https://hooks.example.be/passerelle', {});
 * ```
 */
export async function checkWebhookUrl(raw: string, policy: WebhookUrlPolicy): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused('it is not an absolute URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw refused(policy.allowHttp ? 'only http and https are called' : 'only https is called');
  }
  if (url.username || url.password) throw refused('it carries credentials');
  if (url.hash) throw refused('it has a fragment');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : await resolve(host);
  for (const address of addresses) {
    const why = refusedAddress(address, policy);
    if (why) throw refused(`its host is ${why}`);
  }
  return url;
}

async function resolve(host: string): Promise<string[]> {
  try {
    return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    throw refused('its host name does not resolve');
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | { address: string; family: number }[],
  family?: number,
) => void;

/**
 * A `lookup` for `http.request` that resolves the host and refuses to connect to an address the policy
 * does not allow: the check is made on the address actually connected to (no DNS rebinding).
 */
export function guardedLookup(policy: WebhookUrlPolicy) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    lookup(hostname, { all: true, verbatim: true }).then(
      (found) => {
        const bad = found.find((a) => refusedAddress(a.address, policy));
        if (bad || found.length === 0) {
          const err = new Error('address refused by the webhook policy') as NodeJS.ErrnoException;
          err.code = 'EADDRREFUSED';
          callback(err, []);
          return;
        }
        if (options.all) callback(null, found);
        else callback(null, found[0]!.address, found[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, []),
    );
  };
}
