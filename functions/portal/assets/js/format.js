// How values are shown: dates, counts, status badges, provisioning errors.

import { h } from './dom.js';

export function plural(n, word, many = `${word}s`) {
  return `${n} ${n === 1 ? word : many}`;
}

/** A date from epoch milliseconds or an ISO string, in the user's locale. */
export function dateTime(v) {
  if (v === undefined || v === null || v === '') return '—';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? String(v) : d.toLocaleString();
}

/** How long ago a time (epoch ms) was: "just now", "5 min ago", "3 h ago", else the date. */
export function ago(ms, now = Date.now()) {
  if (typeof ms !== 'number') return '—';
  const min = Math.floor((now - ms) / 60_000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  if (min < 48 * 60) return `${Math.floor(min / 60)} h ago`;
  return dateTime(ms);
}

export function duration(ms) {
  if (typeof ms !== 'number' || ms < 0) return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** Whether two enum values are the same, whatever their case (the backend's casing varies). */
export function sameEnum(a, b) {
  return typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
}

/** A coloured badge for pending/synced/failed, succeeded/partial/skipped, provisioned…; '—' when absent. */
export function badge(value, label = value) {
  if (!value) return h('span', { class: 'muted' }, '—');
  return h('span', { class: `badge badge-${String(value).toLowerCase()}` }, label);
}

/** `serviceProvisioningErrors` as `code: message` lines. */
export function errorList(errors) {
  if (!errors?.length) return '';
  return h(
    'ul',
    { class: 'errors' },
    errors.map((e) => h('li', null, h('code', null, e.code), ': ', e.message, e.target ? ` (${e.target})` : '')),
  );
}

/** `true`/`false` as Yes/No. */
export function yesNo(v) {
  return v === undefined || v === null ? '—' : v ? 'Yes' : 'No';
}

/** A definition list from `[label, value]` pairs (values may be nodes). */
export function details(pairs) {
  return h(
    'dl',
    { class: 'details' },
    pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v === undefined || v === null || v === '' ? '—' : v)]),
  );
}
