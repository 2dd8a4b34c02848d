// Unit tests of the portal's value formatting (format.js), with `node --test`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { duration, plural, sameEnum } from '../../functions/portal/assets/js/format.js';

test('plurals, regular and not', () => {
  assert.equal(plural(1, 'number'), '1 number');
  assert.equal(plural(2, 'number'), '2 numbers');
  assert.equal(plural(0, 'address', 'addresses'), '0 addresses');
});

test('durations', () => {
  assert.equal(duration(250), '250 ms');
  assert.equal(duration(1500), '1.5 s');
  assert.equal(duration(125_000), '2 min 5 s');
  assert.equal(duration(-1), '—');
});

test("enum values compare without case (the backend's casing varies)", () => {
  assert.ok(sameEnum('Validated', 'validated'));
  assert.ok(!sameEnum('NotValidated', 'validated'));
  assert.ok(!sameEnum(undefined, 'validated'));
});
