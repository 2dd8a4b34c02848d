// #/accounts/<name>/numbers: the account's numbers (filter, paging, selection) with their sync
// status and errors; create (manual or file), manage one, delete the ticked ones, export CSV.

import { api, apiPath } from '../api.js';
import { can } from '../auth.js';
import { append, confirmDialog, h, saveBlob } from '../dom.js';
import { badge, errorList, plural } from '../format.js';
import { syncHealth } from '../health.js';
import { listView } from '../listview.js';
import { chunks, enabledServices, FILTER_FIELDS, MAX_BATCH, teamsConfig } from '../model.js';
import { go, href } from '../router.js';

function usageCell(n) {
  const t = teamsConfig(n);
  if (!t) return '';
  const usages = [t.config.usage, ...(t.config.additionalUsages || [])].filter(Boolean);
  return usages.join(', ');
}

function capabilitiesCell(n) {
  const t = teamsConfig(n);
  return t ? (t.config.choosableCapabilities || []).join(', ') : '';
}

function addressCell(n) {
  const t = teamsConfig(n);
  if (!t) return '';
  const c = t.config;
  const where = [c.civicAddressId, c.locationId].filter(Boolean).join(' / ');
  return [where, c.allowTenantAddressUpdate ? (where ? ' (tenant may update)' : 'tenant may update') : ''].join('');
}

async function deleteNumbers(ctx, account, tns, view) {
  const shown = tns.slice(0, 10);
  const ok = await confirmDialog({
    title: 'Delete numbers',
    message: `Delete ${plural(tns.length, 'number')} from account ${account}?`,
    extra: h(
      'ul',
      { class: 'confirm-list' },
      shown.map((tn) => h('li', { class: 'mono' }, tn)),
      tns.length > shown.length ? h('li', null, `and ${tns.length - shown.length} more`) : null,
    ),
  });
  if (!ok) return;
  ctx.loading();
  ctx.clearFlash();
  let done = 0;
  try {
    for (const batch of chunks(tns, MAX_BATCH)) {
      await api.post(`${apiPath('accounts', account)}:deleteNumbers`, { numbers: batch.map((telephoneNumber) => ({ telephoneNumber })) });
      done += batch.length;
    }
    ctx.ok(`Deleted ${plural(done, 'number')} from ${account}. Synced numbers are released on the next sync; press Refresh to see their state.`);
  } catch (err) {
    if (done) err.message = `${err.message} (${plural(done, 'number')} were deleted before the error)`;
    ctx.error(err);
  }
  await view.refresh();
}

/** Exports what the list shows (its search and filter), with each number's sync status and errors. */
async function exportNumbers(ctx, account, button, shown) {
  ctx.clearFlash();
  button.disabled = true;
  try {
    const query = { includeStatus: true, ...shown };
    const { blob } = await api.download(`${apiPath('accounts', account, 'numbers')}:export`, { query });
    const narrowed = shown.filter || shown.search;
    const filename = `${account}-numbers${narrowed ? '-filtered' : ''}.csv`;
    saveBlob(blob, filename);
    ctx.ok(`Exported the ${narrowed ? 'filtered ' : ''}numbers of ${account} to ${filename}.`);
  } catch (err) {
    ctx.error(err);
  } finally {
    button.disabled = false;
  }
}

export async function render(ctx) {
  const account = ctx.params.name;
  const title = h('h1', { testid: 'page-title' }, `Numbers of ${account}`);
  ctx.add(h('nav', { class: 'crumbs' }, h('a', { href: '#/accounts' }, 'Accounts'), ' › ', account, ' › Numbers'), title);
  const accountInfo = h('p', { class: 'lead' });
  ctx.add(accountInfo, syncHealth());
  try {
    const { data } = await api.get(apiPath('accounts', account));
    const on = enabledServices(data.serviceDetails);
    append(accountInfo, [
      'Services: ',
      on.length ? on.map((s) => s.label).join(', ') : 'none',
      ' · ',
      h('a', { href: href(['accounts', account, 'civic']) }, 'Civic addresses'),
      ' · ',
      h('a', { href: href(['accounts', account, 'history']), testid: 'account-history' }, 'History'),
      can('write') ? [' · ', h('a', { href: href(['accounts', account, 'manage']) }, 'Manage account')] : null,
    ]);
  } catch (err) {
    ctx.error(err);
  }

  const manage = h('button', { type: 'button', testid: 'numbers-manage', disabled: true }, 'Manage number');
  const del = h('button', { type: 'button', class: 'danger', testid: 'numbers-delete', disabled: true }, 'Delete numbers');
  const exp = h('button', { type: 'button', testid: 'numbers-export' }, 'Export');
  const hist = h('button', { type: 'button', testid: 'number-history', disabled: true }, 'History');

  const view = listView(ctx, {
    name: 'number',
    noun: 'number',
    path: apiPath('accounts', account, 'numbers'),
    key: (n) => n.telephoneNumber,
    selectable: true,
    search: 'Number, e.g. +1 425 555, or custom SIP header',
    fields: FILTER_FIELDS.numbers,
    pageSize: ctx.query.maxpagesize,
    filterPlaceholder: "e.g. startswith(telephoneNumber,'+44') or serviceProvisioningStatus eq 'failed'",
    onSelection: (keys) => {
      manage.disabled = keys.length !== 1;
      hist.disabled = keys.length !== 1;
      del.disabled = keys.length === 0;
      del.textContent = keys.length ? `Delete numbers (${keys.length})` : 'Delete numbers';
    },
    columns: [
      {
        field: 'telephoneNumber',
        label: 'Telephone number',
        class: 'mono',
        // The number opens: its form for those who may change it, its history for the others.
        render: (n) =>
          h(
            'a',
            { href: href(['accounts', account, 'numbers', n.telephoneNumber, ...(can('write') ? [] : ['history'])]), testid: 'number-link' },
            n.telephoneNumber,
          ),
      },
      {
        field: 'services',
        label: 'Services',
        render: (n) =>
          enabledServices(n.serviceDetails)
            .map((s) => s.short)
            .join(', '),
      },
      { field: 'usage', label: 'Usage', render: usageCell },
      { field: 'capabilities', label: 'Capabilities', render: capabilitiesCell },
      { field: 'address', label: 'Civic address / location', render: addressCell },
      { field: 'status', label: 'Sync status', render: (n) => badge(n.serviceProvisioningStatus) },
      { field: 'errors', label: 'Errors', render: (n) => errorList(n.serviceProvisioningErrors) },
      { field: 'customSipHeader', label: 'Custom SIP header', class: 'mono', render: (n) => n.configuration?.customSipHeader || '' },
    ],
  });

  manage.addEventListener('click', () => {
    const [tn] = view.selected();
    if (tn) go(href(['accounts', account, 'numbers', tn]));
  });
  hist.addEventListener('click', () => {
    const [tn] = view.selected();
    if (tn) go(href(['accounts', account, 'numbers', tn, 'history']));
  });
  del.addEventListener('click', () => {
    const tns = view.selected();
    if (tns.length) deleteNumbers(ctx, account, tns, view);
  });
  exp.addEventListener('click', () => exportNumbers(ctx, account, exp, view.shown()));

  ctx.add(
    h(
      'div',
      { class: 'toolbar' },
      view.refreshButton(),
      can('write')
        ? h(
            'span',
            { class: 'group', role: 'group', 'aria-label': 'Create numbers' },
            h('span', { class: 'group-label' }, 'Create numbers:'),
            h('a', { class: 'button primary', testid: 'numbers-create-manual', href: href(['accounts', account, 'numbers', 'new']) }, 'Manual input'),
            h('a', { class: 'button primary', testid: 'numbers-create-file', href: href(['accounts', account, 'numbers', 'upload']) }, 'File upload'),
          )
        : null,
      can('write') ? manage : null,
      can('delete') ? del : null,
      can('read') ? hist : null,
      can('read') ? exp : null,
    ),
    view.el,
  );
  await view.load();
}
