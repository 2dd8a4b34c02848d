// Unit tests of the portal's value formatting (format.js), with `node --test`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ago, duration, plural, sameEnum } from '../../functions/portal/assets/js/format.js';

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

test('how long ago', () => {
  const now = Date.UTC(2026, 11, 3, 12, 0, 0);
  assert.equal(ago(now - 20_000, now), 'just now');
  assert.equal(ago(now - 5 * 60_000, now), '5 min ago');
  assert.equal(ago(now - 3 * 3_600_000, now), '3 h ago');
  assert.equal(ago(undefined, now), '—');
});
