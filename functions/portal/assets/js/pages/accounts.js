// #/accounts: the accounts with their services, per-service number counts, sync and Direct
// Routing subdomain state; create, manage, delete (with the number count in the confirmation).

import { api, apiPath } from '../api.js';
import { can } from '../auth.js';
import { confirmDialog, h } from '../dom.js';
import { badge, errorList, plural } from '../format.js';
import { syncHealth } from '../health.js';
import { listView } from '../listview.js';
import { enabledServices, FILTER_FIELDS, SERVICES } from '../model.js';
import { go, href } from '../router.js';

function servicesCell(a) {
  const on = enabledServices(a.serviceDetails);
  return on.length ? on.map((s) => s.short).join(', ') : h('span', { class: 'muted' }, 'none');
}

function countsCell(a) {
  const sd = a.serviceDetails || {};
  const rows = SERVICES.filter((s) => sd[s.key]).map((s) => h('li', { 'data-service': s.key }, `${s.short}: ${sd[s.key].numberCount ?? 0}`));
  return rows.length ? h('ul', { class: 'counts' }, rows) : '0';
}

function syncCell(a) {
  const synced = SERVICES.filter((s) => s.sync && a.serviceDetails?.[s.key]?.enabled && a.serviceDetails[s.key].syncEnabled);
  return synced.length ? `On (${synced.map((s) => s.short).join(', ')})` : 'Off';
}

/** The account's failed numbers, linked to its list filtered to them. */
function failedCell(a) {
  const n = a.failedNumberCount ?? 0;
  if (!n) return h('span', { class: 'muted' }, '0');
  const to = href(['accounts', a.name, 'numbers'], { filter: "serviceProvisioningStatus eq 'failed'" });
  return h('a', { href: to, class: 'badge badge-failed', testid: 'account-failed' }, plural(n, 'failed number'));
}

/** How many numbers an account has: the API's exact count, else the largest per-service count. */
async function numberCount(a) {
  try {
    const page = await api.list(apiPath('accounts', a.name, 'numbers'), { query: { maxpagesize: 1, countRecords: true } });
    if (page.count != null) return page.count;
  } catch {
    /* fall back to the account's own counters */
  }
  const sd = a.serviceDetails || {};
  return Math.max(0, ...SERVICES.map((s) => sd[s.key]?.numberCount ?? 0));
}

async function deleteAccount(ctx, a, view) {
  const n = await numberCount(a);
  const message = `Delete account ${a.name} and its ${plural(n, 'number')}?`;
  const ok = await confirmDialog({
    title: 'Delete account',
    message,
    extra: n > 0 ? h('p', { class: 'hint' }, 'Synced numbers are released from the backend service on the next sync.') : null,
    typeToConfirm: a.name,
  });
  if (!ok) return;
  ctx.loading();
  ctx.clearFlash();
  try {
    await api.del(apiPath('accounts', a.name), { query: n > 0 ? { deleteNumbers: true } : {} });
    ctx.ok(`Deleted account ${a.name}${n > 0 ? ` and its ${plural(n, 'number')}` : ''}.`);
    await view.load();
  } catch (err) {
    ctx.error(err);
    ctx.done();
  }
}

export async function render(ctx) {
  let view;
  const rowActions = (a) =>
    h(
      'div',
      { class: 'row-actions' },
      h('a', { class: 'button', testid: 'account-numbers', href: href(['accounts', a.name, 'numbers']) }, 'View numbers'),
      h('a', { class: 'button', testid: 'account-civic', href: href(['accounts', a.name, 'civic']) }, 'Civic addresses'),
      can('write') ? h('a', { class: 'button', testid: 'account-manage', href: href(['accounts', a.name, 'manage']) }, 'Manage') : null,
      can('delete') ? h('button', { type: 'button', class: 'danger', testid: 'account-delete', onclick: () => deleteAccount(ctx, a, view) }, 'Delete') : null,
    );
  view = listView(ctx, {
    name: 'account',
    noun: 'account',
    path: '/accounts',
    key: (a) => a.name,
    search: 'Account name, tenant ID or correlation ID',
    fields: FILTER_FIELDS.accounts,
    pageSize: ctx.query.maxpagesize,
    filterPlaceholder: "e.g. startswith(name,'con') or serviceDetails/teamsTenantId eq '…'",
    columns: [
      { field: 'name', label: 'Account name', render: (a) => h('a', { href: href(['accounts', a.name, 'numbers']), testid: 'row-link' }, a.name) },
      { field: 'tenant', label: 'Teams tenant ID', class: 'guid', render: (a) => a.serviceDetails?.teamsTenantId || '' },
      { field: 'services', label: 'Services', render: servicesCell },
      { field: 'numberCount', label: 'Numbers', render: countsCell },
      { field: 'sync', label: 'Sync with backend', render: syncCell },
      { field: 'status', label: 'Sync status', render: (a) => badge(a.serviceProvisioningStatus) },
      { field: 'failed', label: 'Failed numbers', render: failedCell },
      { field: 'errors', label: 'Errors', render: (a) => errorList(a.serviceProvisioningErrors) },
      {
        field: 'subdomainStatus',
        label: 'DR subdomain',
        render: (a) => {
          const dr = a.serviceDetails?.teamsDirectRouting;
          if (!dr) return '';
          const sub = dr.configuration?.subdomain;
          return h('span', null, badge(dr.subdomainStatus), sub ? h('span', { class: 'mono' }, ` ${sub}`) : null);
        },
      },
      { field: 'actions', label: '', class: 'actions-cell', render: rowActions },
    ],
  });
  ctx.add(
    h('h1', { testid: 'page-title' }, 'Accounts'),
    h('p', { class: 'lead' }, 'Enterprises and the communications services enabled for them.'),
    syncHealth(),
    h(
      'div',
      { class: 'toolbar' },
      can('write')
        ? h('button', { type: 'button', class: 'primary', testid: 'account-create', onclick: () => go(href(['accounts', 'new'])) }, 'Create account')
        : null,
      view.refreshButton(),
    ),
    view.el,
  );
  await view.load();
}
