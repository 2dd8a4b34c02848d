// #/accounts/<name>/history and #/accounts/<name>/numbers/<tn>/history: the audit trail of an
// account or a number (GET /auditEvents), newest first: who, what, before → after.

import { apiPath } from '../api.js';
import { h } from '../dom.js';
import { dateTime } from '../format.js';
import { listView } from '../listview.js';
import { href } from '../router.js';

/** Changes shown per entity before "and N more". */
const SHOWN = 8;
/** Entities shown per event before "and N more" (an import's event holds 97 numbers). */
const SHOWN_ENTITIES = 5;

function shown(v) {
  if (v === undefined || v === null) return '—';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The event's changes; on a number's page only that number's (a batch event holds many). */
function changesCell(event, only) {
  const entities = (event.entities || []).filter((e) => !only || e.id === only);
  const more = entities.length - SHOWN_ENTITIES;
  const cells = entities.slice(0, SHOWN_ENTITIES).map((entity) => {
    const changes = entity.changes || [];
    return h(
      'div',
      { class: 'audit-entity' },
      h('span', { class: 'muted' }, `${entity.kind} `),
      h('span', { class: 'mono' }, entity.id),
      h(
        'ul',
        { class: 'audit-changes' },
        changes
          .slice(0, SHOWN)
          .map((c) => h('li', { testid: 'audit-change' }, h('span', { class: 'mono' }, c.field), ': ', shown(c.before), ' → ', shown(c.after))),
        changes.length > SHOWN ? h('li', { class: 'muted' }, `and ${changes.length - SHOWN} more`) : null,
      ),
    );
  });
  return more > 0 ? [...cells, h('div', { class: 'muted' }, `and ${more} more`)] : cells;
}

function actorCell(event) {
  const a = event.actor || {};
  return h(
    'div',
    null,
    h('div', null, a.subject || '—'),
    a.appId ? h('div', { class: 'muted' }, a.appId) : null,
    (a.roles || []).length ? h('div', { class: 'muted' }, a.roles.join(', ')) : null,
  );
}

function referenceCell(event) {
  return h(
    'div',
    { class: 'mono small' },
    event.ticketId ? h('div', null, `ticket ${event.ticketId}`) : null,
    event.correlationId ? h('div', null, `correlation ${event.correlationId}`) : null,
    event.requestId ? h('div', { class: 'muted' }, `request ${event.requestId}`) : null,
  );
}

function render(ctx, query, nav, title, only = null) {
  const view = listView(ctx, {
    name: 'audit',
    noun: 'event',
    path: apiPath('auditEvents'),
    query,
    filter: false,
    count: false,
    key: (e) => e.id,
    empty: 'No changes recorded.',
    columns: [
      { field: 'time', label: 'Time', render: (e) => dateTime(e.time) },
      { field: 'actor', label: 'Who', render: actorCell },
      { field: 'operation', label: 'Operation', class: 'mono', render: (e) => e.operation },
      { field: 'changes', label: 'Changes (before → after)', render: (e) => changesCell(e, only) },
      { field: 'reference', label: 'Ticket / correlation / request', render: referenceCell },
    ],
  });
  ctx.add(nav, h('h1', { testid: 'page-title' }, title), view.el);
  return view.load();
}

/** Accounts › <account> › …`tail`. */
function crumbs(account, tail) {
  return h(
    'nav',
    { class: 'crumbs' },
    h('a', { href: '#/accounts' }, 'Accounts'),
    ' › ',
    h('a', { href: href(['accounts', account, 'numbers']) }, account),
    tail,
  );
}

export function renderAccount(ctx) {
  const account = ctx.params.name;
  return render(ctx, { accountName: account }, crumbs(account, ' › History'), `History of ${account}`);
}

export function renderNumber(ctx) {
  const { name: account, tn } = ctx.params;
  const query = { accountName: account, telephoneNumber: tn };
  return render(ctx, query, crumbs(account, ` › ${tn} › History`), `History of ${tn}`, tn);
}
