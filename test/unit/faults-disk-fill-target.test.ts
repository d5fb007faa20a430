// disk-fill's default path: /var/lib/mysql when the target runs one of the described databases, whether the
// description names the database's server (the reference stack) or only its service (the shop's `store`).

import test from 'ava';
import { runsDatabase } from '../../src/faults/disk-fill.js';

test('runsDatabase: by server or by service; an entry naming neither, or other ones, matches nothing', (t) => {
  const shop = { store: { service: 'store', user: 'shop_reader' } };
  t.true(runsDatabase(shop, { server: 'store', service: 'store' }));
  t.false(runsDatabase(shop, { server: 'api', service: 'api' }));
  const reference = { primary: { server: 'db-primary' } };
  t.true(runsDatabase(reference, { server: 'db-primary', service: 'db-primary-mariadb' }));
  t.false(runsDatabase(reference, { server: 'web1', service: 'web1-app' }));
  // An unlabelled container (no server) is not a database because an entry has no server either.
  t.false(runsDatabase(shop, { service: 'other' }));
  t.false(runsDatabase({ loopback: {} }, { service: 'x' }));
});
