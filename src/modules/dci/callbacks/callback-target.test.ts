import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallbackRefused, isInternalAddress, resolveCallbackTarget, type Resolver } from './callback-target.js';

const resolverOf = (table: Record<string, string[]>): Resolver => async (hostname) => {
  const addresses = table[hostname];
  if (!addresses) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

describe('DCI callback targets', () => {
  test('internal addresses: loopback, RFC 1918, link-local, CGNAT, unspecified, ULA, mapped IPv4', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', '224.0.0.1']) {
      assert.equal(isInternalAddress(address), true, address);
    }
    for (const address of ['8.8.8.8', '172.32.0.1', '193.0.14.129', '2001:4860:4860::8888', '::ffff:8.8.8.8']) {
      assert.equal(isInternalAddress(address), false, address);
    }
  });

  test('only hosts (and ports) in the allowed list; only http(s); no credentials in the URI', async () => {
    const resolve = resolverOf({ 'spmis.example.org': ['93.184.216.34'] });
    const target = await resolveCallbackTarget('https://spmis.example.org/registry/on-search', ['spmis.example.org'], { resolve });
    assert.equal(target.address, '93.184.216.34');
    assert.equal(target.url.pathname, '/registry/on-search');
    assert.equal((await resolveCallbackTarget('https://spmis.example.org:8443/cb', ['spmis.example.org:8443'], { resolve })).address, '93.184.216.34');
    for (const [uri, allowed] of [
      ['https://other.example.org/cb', ['spmis.example.org']],
      ['https://spmis.example.org:9999/cb', ['spmis.example.org:8443']],
      ['ftp://spmis.example.org/cb', ['spmis.example.org']],
      ['https://user:pw@spmis.example.org/cb', ['spmis.example.org']],
      ['not a url', ['spmis.example.org']],
      ['https://spmis.example.org/cb', []],
    ] as const) {
      await assert.rejects(resolveCallbackTarget(uri, allowed, { resolve }), CallbackRefused, uri);
    }
  });

  test('an allowed name resolving to an internal address is refused (DNS rebinding, metadata endpoints) unless configured', async () => {
    const resolve = resolverOf({ 'partner.example.org': ['93.184.216.34', '10.0.0.7'], 'metadata.example.org': ['169.254.169.254'], 'intranet.gov': ['10.1.1.1'] });
    await assert.rejects(resolveCallbackTarget('https://partner.example.org/cb', ['partner.example.org'], { resolve }), /internal address/);
    await assert.rejects(resolveCallbackTarget('http://metadata.example.org/latest', ['metadata.example.org'], { resolve }), /internal address/);
    await assert.rejects(resolveCallbackTarget('https://nowhere.example.org/cb', ['nowhere.example.org'], { resolve }), /does not resolve/);
    const configured = await resolveCallbackTarget('https://intranet.gov/cb', ['intranet.gov'], { resolve, privateNetworkHosts: ['intranet.gov'] });
    assert.equal(configured.address, '10.1.1.1');
  });

  test('an internal IP address listed explicitly is allowed (what tests and on-premise partners do)', async () => {
    const target = await resolveCallbackTarget('http://127.0.0.1:4000/registry/on-search', ['127.0.0.1:4000']);
    assert.equal(target.address, '127.0.0.1');
    assert.equal(target.family, 4);
    await assert.rejects(resolveCallbackTarget('http://127.0.0.1:4001/x', ['127.0.0.1:4000']), CallbackRefused);
  });
});
