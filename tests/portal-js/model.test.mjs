// Unit tests of the portal's pure modules, run with Node's own test runner (`node --test`, no
// dependencies): scripts/test runs them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { chunks, csvHeadings, isGuid, isName, parseNumbers, telephoneProblem } from '../../functions/portal/assets/js/model.js';

test('numbers are read as people write them', () => {
  assert.deepEqual(parseNumbers('+1 425 555 0102'), ['+14255550102']);
  assert.deepEqual(parseNumbers('+1 (425) 555-0102\n+1.425.555.0103'), ['+14255550102', '+14255550103']);
  // A space before a "+" starts the next number; commas, semicolons and new lines separate too.
  assert.deepEqual(parseNumbers('+15105850321 +15105850322; +15105850323,\r\n+15105850321'), ['+15105850321', '+15105850322', '+15105850323']);
  // "(0)" is a trunk prefix, not part of the international number.
  assert.deepEqual(parseNumbers('+44 (0)20 7946 0958'), ['+442079460958']);
  assert.deepEqual(parseNumbers('  \n , '), []);
});

test('telephone numbers are checked as the API checks them', () => {
  assert.equal(telephoneProblem('+14255550102'), null);
  assert.match(telephoneProblem('14255550102'), /E\.164/);
  assert.match(telephoneProblem('+0425'), /E\.164/);
  assert.match(telephoneProblem('+1425555010299999'), /16 characters/);
});

test('names and tenant ids', () => {
  assert.ok(isName('contoso_EU-1'));
  assert.ok(!isName('bad.name') && !isName('') && !isName('a'.repeat(101)));
  assert.ok(isGuid('a7f4bd5c-2f0e-4f0b-9a3e-1c2d3e4f5a6b'));
  assert.ok(!isGuid('a7f4bd5c-2f0e-4f0b-9a3e'));
});

test('batches of at most 100', () => {
  const items = Array.from({ length: 250 }, (_, i) => i);
  assert.deepEqual(
    chunks(items, 100).map((c) => c.length),
    [100, 100, 50],
  );
});

test("the CSV template's headings are the server's (tests/portal-js/csv-headings.json, checked by routes.rs)", () => {
  const server = JSON.parse(readFileSync(new URL('./csv-headings.json', import.meta.url), 'utf8'));
  assert.deepEqual(csvHeadings(), server);
});
