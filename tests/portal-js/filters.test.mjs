// Unit tests of the point-and-click filters (filters.js), with `node --test`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { chipLabel, compose, parseChips, splitAnd, splitFilter, termText } from '../../functions/portal/assets/js/filters.js';

const FIELDS = [
  { field: 'telephoneNumber', label: 'Number', type: 'text' },
  { field: 'serviceProvisioningStatus', label: 'Sync status', type: 'enum', values: ['pending', 'synced', 'failed'] },
  { field: 'serviceDetails.teamsOperatorConnect.enabled', label: 'Operator Connect', type: 'bool' },
];

test('chips are OData terms joined with and', () => {
  const chips = [
    { field: 'telephoneNumber', op: 'startswith', value: "+44'", type: 'text' },
    { field: 'serviceProvisioningStatus', op: 'ne', value: 'failed', type: 'enum' },
    { field: 'serviceDetails.teamsOperatorConnect.enabled', op: 'eq', value: true, type: 'bool' },
  ];
  assert.equal(termText(chips[0]), "startswith(telephoneNumber,'+44''')");
  const text = compose(chips, '');
  assert.equal(text, "startswith(telephoneNumber,'+44''') and serviceProvisioningStatus ne 'failed' and serviceDetails.teamsOperatorConnect.enabled eq true");
  assert.deepEqual(parseChips(text, FIELDS), chips, 'a filter of chips reads back as the same chips');
  assert.equal(compose(chips.slice(1, 2), "a eq 'x' or b eq 'y'"), "(a eq 'x' or b eq 'y') and serviceProvisioningStatus ne 'failed'");
  assert.equal(compose([], ' x eq 1 '), 'x eq 1');
});

test('splits only at a top-level and', () => {
  assert.deepEqual(splitAnd("a eq 'x and y' AND (b eq 1 and c eq 2) and d eq 3"), ["a eq 'x and y'", '(b eq 1 and c eq 2)', 'd eq 3']);
});

test('what chips cannot show stays text', () => {
  assert.equal(parseChips("serviceProvisioningStatus eq 'failed' or telephoneNumber eq '+1'", FIELDS), null);
  assert.equal(parseChips("accountName eq 'x'", FIELDS), null, 'a field this list does not offer');
  assert.equal(parseChips("serviceDetails/teamsOperatorConnect/enabled eq 'yes'", FIELDS), null, 'a bool field takes true or false');
  assert.deepEqual(parseChips('serviceDetails/teamsOperatorConnect/enabled eq false', FIELDS), [
    { field: 'serviceDetails.teamsOperatorConnect.enabled', op: 'eq', value: false, type: 'bool' },
  ]);
  assert.deepEqual(parseChips('  ', FIELDS), []);
});

test('chips read as sentences', () => {
  assert.equal(chipLabel({ field: 'serviceProvisioningStatus', op: 'eq', value: 'failed' }, FIELDS), 'Sync status is failed');
  assert.equal(chipLabel({ field: 'serviceDetails.teamsOperatorConnect.enabled', op: 'ne', value: true }, FIELDS), 'Operator Connect is not yes');
});

test('chips and typed text come apart and back together unchanged', () => {
  const chip = { field: 'serviceProvisioningStatus', op: 'eq', value: 'failed', type: 'enum' };
  const raw = "telephoneNumber eq '+1' or telephoneNumber eq '+2'";
  const text = compose([chip], raw);
  assert.deepEqual(splitFilter(text, FIELDS), { chips: [chip], raw });
  assert.equal(compose(splitFilter(text, FIELDS).chips, splitFilter(text, FIELDS).raw), text, 'no parentheses added on each round');
  assert.deepEqual(splitFilter('(a eq 1) or (b eq 2)', FIELDS), { chips: [], raw: '(a eq 1) or (b eq 2)' });
  assert.deepEqual(splitFilter('', FIELDS), { chips: [], raw: '' });
});
