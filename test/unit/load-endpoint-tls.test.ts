// The one mapping from a described endpoint to the load's TLS options (load --stack and the runner both use it).
import test from 'ava';
import { endpointTls } from '../../src/stack/endpoint-tls.js';
import { validateLoadOptions } from '../../src/load/index.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

test('https: verified against the CA the caller holds, else not at all; the SNI name the description gives', (t) => {
  t.deepEqual(endpointTls('https://127.0.0.1:9443/', { sni: 'shop.test' }, CA), { ca: CA, servername: 'shop.test' });
  t.deepEqual(endpointTls('https://127.0.0.1:9443/', {}, undefined), { insecure: true });
  // The CA as a file, as --ca names one: the same mapping, another form of the CA.
  t.deepEqual(endpointTls('https://127.0.0.1:9443/', { sni: undefined }, '/etc/shop/ca.pem'), { ca: '/etc/shop/ca.pem' });
});

test('http: no TLS options, which the load engine would refuse', (t) => {
  t.deepEqual(endpointTls('http://127.0.0.1:8080/', { sni: 'shop.test' }, CA), {});
  t.notThrows(() => validateLoadOptions({ url: 'http://127.0.0.1:8080/', ...endpointTls('http://127.0.0.1:8080/', { sni: 'shop.test' }, undefined) }));
  t.is(validateLoadOptions({ url: 'https://127.0.0.1:9443/', ...endpointTls('https://127.0.0.1:9443/', { sni: 'shop.test' }, CA) }).servername, 'shop.test');
});
