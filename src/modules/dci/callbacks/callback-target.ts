import dns from 'node:dns/promises';
import net from 'node:net';

/**
 * Where a callback may go. The partner's allowed callback hosts gate the host name (checked when
 * the request arrives and again before every attempt); then the name is resolved and a loopback,
 * private, link-local or otherwise internal address is refused unless the allowed entry is that
 * very IP address (an administrator saying "yes, this internal address"), or the host is listed in
 * `privateNetworkHosts` (configuration). The connection then goes to the address that was checked,
 * so a DNS answer that changes between the check and the connection cannot redirect it.
 */
export interface CallbackTarget {
  url: URL;
  /** The checked address the request connects to. */
  address: string;
  family: 4 | 6;
}

export class CallbackRefused extends Error {
  override name = 'CallbackRefused';
}

export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

export async function resolveCallbackTarget(
  uri: string,
  allowedHosts: readonly string[],
  options: { privateNetworkHosts?: readonly string[]; resolve?: Resolver } = {},
): Promise<CallbackTarget> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new CallbackRefused('the callback URI is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CallbackRefused('the callback URI must be http(s)');
  if (url.username || url.password) throw new CallbackRefused('the callback URI must not carry credentials');
  const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const withPort = url.port ? `${host}:${url.port}` : host;
  const entry = allowedHosts.find((allowed) => allowed === withPort || allowed === host || allowed === `[${host}]:${url.port}`);
  if (!entry) throw new CallbackRefused(`host ${withPort} is not among the partner's allowed callback hosts`);

  const isLiteral = net.isIP(host) !== 0;
  const addresses = isLiteral ? [{ address: host, family: net.isIP(host) }] : await (options.resolve ?? systemResolver)(host).catch(() => []);
  if (addresses.length === 0) throw new CallbackRefused(`host ${host} does not resolve`);
  const privateAllowed = isLiteral || (options.privateNetworkHosts ?? []).includes(host);
  for (const { address } of addresses) {
    if (!privateAllowed && isInternalAddress(address)) {
      throw new CallbackRefused(`host ${host} resolves to an internal address; allow that address explicitly to call it`);
    }
  }
  const chosen = addresses[0]!;
  return { url, address: chosen.address, family: chosen.family === 6 ? 6 : 4 };
}

const BLOCKED = new net.BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv6');
}

/** Loopback, private (RFC 1918, ULA), link-local, CGNAT, unspecified, multicast, reserved. */
export function isInternalAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return BLOCKED.check(mapped[1]!, 'ipv4');
    return BLOCKED.check(address, 'ipv6');
  }
  return true;
}
