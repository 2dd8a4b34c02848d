// #/numbers: every number of every account (GET /numbers, the all-numbers index), in number
// order, with its account and sync status; a number opens in its account.

import { can } from '../auth.js';
import { h } from '../dom.js';
import { badge, errorList } from '../format.js';
import { syncHealth } from '../health.js';
import { listView } from '../listview.js';
import { enabledServices, FILTER_FIELDS } from '../model.js';
import { href } from '../router.js';

export async function render(ctx) {
  const view = listView(ctx, {
    name: 'all-number',
    noun: 'number',
    path: '/numbers',
    key: (n) => n.telephoneNumber,
    search: 'Number (+1 425 555…) or account',
    fields: FILTER_FIELDS.allNumbers,
    pageSize: ctx.query.maxpagesize,
    filterPlaceholder: "e.g. startswith(telephoneNumber,'+44') or serviceProvisioningStatus eq 'failed'",
    columns: [
      {
        field: 'telephoneNumber',
        label: 'Telephone number',
        class: 'mono',
        render: (n) =>
          h(
            'a',
            { href: href(['accounts', n.accountName, 'numbers', n.telephoneNumber, ...(can('write') ? [] : ['history'])]), testid: 'number-link' },
            n.telephoneNumber,
          ),
      },
      { field: 'accountName', label: 'Account', render: (n) => h('a', { href: href(['accounts', n.accountName, 'numbers']) }, n.accountName) },
      {
        field: 'services',
        label: 'Services',
        render: (n) =>
          enabledServices(n.serviceDetails)
            .map((s) => s.short)
            .join(', '),
      },
      { field: 'status', label: 'Sync status', render: (n) => badge(n.serviceProvisioningStatus) },
      { field: 'errors', label: 'Errors', render: (n) => errorList(n.serviceProvisioningErrors) },
    ],
  });
  ctx.add(
    h('h1', { testid: 'page-title' }, 'All numbers'),
    h('p', { class: 'lead' }, 'Every account’s numbers, in number order.'),
    syncHealth(),
    h('div', { class: 'toolbar' }, view.refreshButton()),
    view.el,
  );
  await view.load();
}
