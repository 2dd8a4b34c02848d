// #/rfis: requests for information (Operator Connect consents), filterable and paged.

import { h } from '../dom.js';
import { badge, errorList } from '../format.js';
import { listView } from '../listview.js';
import { FILTER_FIELDS, relationshipLabel } from '../model.js';
import { go, href } from '../router.js';

/** The enterprise's name: the field if the API has it, else the first contact's company. */
export function companyName(rfi) {
  return rfi.companyName || rfi.contacts?.find((c) => c.companyName)?.companyName || '';
}

/** A relationship status: its label, and the wire value the API and filters use. */
export function relationshipCell(status) {
  if (!status) return h('span', { class: 'muted' }, '—');
  return h('span', null, relationshipLabel(status), ' ', h('code', { class: 'wire' }, status));
}

function filterHelp() {
  const c = (t) => h('code', null, t);
  return h(
    'div',
    null,
    h(
      'p',
      null,
      'Fields: ',
      c('tenantId'),
      ', ',
      c('accountName'),
      ', ',
      c('status'),
      ' (consent), ',
      c('serviceProvisioningStatus'),
      ', ',
      c('customerRelationship/status'),
      '.',
    ),
    h('p', null, 'Operators: ', c('eq'), ', ', c('ne'), ', ', c("startswith(field,'x')"), ', ', c('and'), ', ', c('or'), '.'),
    h('p', null, 'Example: ', c("customerRelationship/status eq 'AgreementSigned' and status eq 'active'")),
  );
}

export async function render(ctx) {
  const view = listView(ctx, {
    name: 'rfi',
    noun: 'request',
    path: '/teamsRequestsForInformation',
    key: (r) => r.tenantId,
    search: 'Tenant ID, account or company',
    fields: FILTER_FIELDS.rfis,
    pageSize: ctx.query.maxpagesize,
    filterPlaceholder: "e.g. startswith(tenantId,'a7f4') or status eq 'active'",
    filterHelp: filterHelp(),
    onRowClick: (r) => go(href(['rfis', r.tenantId])),
    columns: [
      { field: 'tenantId', label: 'Tenant ID', render: (r) => h('a', { href: href(['rfis', r.tenantId]), class: 'mono', testid: 'row-link' }, r.tenantId) },
      { field: 'companyName', label: 'Company name', render: companyName },
      { field: 'status', label: 'Relationship status', render: (r) => relationshipCell(r.customerRelationship?.status) },
      { field: 'consentStatus', label: 'Consent status', render: (r) => badge(r.status) },
      { field: 'countries', label: 'Countries', render: (r) => (r.consentedCountries || []).join(', ') },
      {
        field: 'accountName',
        label: 'Account',
        render: (r) => (r.accountName ? h('a', { href: href(['accounts', r.accountName, 'numbers']) }, r.accountName) : ''),
      },
      { field: 'syncStatus', label: 'Sync status', render: (r) => badge(r.serviceProvisioningStatus) },
      { field: 'errors', label: 'Errors', render: (r) => errorList(r.serviceProvisioningErrors) },
    ],
  });
  ctx.add(
    h('h1', { testid: 'page-title' }, 'Requests for Information'),
    h('p', { class: 'lead' }, 'Enterprises that asked for service in the Teams Admin Center. Select a tenant to update the relationship or create an account.'),
    h('div', { class: 'toolbar' }, view.refreshButton()),
    view.el,
  );
  await view.load();
}
