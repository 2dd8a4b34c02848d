// #/accounts/<name>/civic and #/accounts/<name>/civic/<id>: the read-only mirror of the
// enterprise's emergency (civic) addresses, and one address with its locations and ELINs.

import { api, apiPath } from '../api.js';
import { h } from '../dom.js';
import { badge, details, sameEnum, yesNo } from '../format.js';
import { dataTable, listView } from '../listview.js';
import { addressLine, FILTER_FIELDS } from '../model.js';
import { go, href } from '../router.js';

function validated(a) {
  if (!a.validationStatus) return badge(null);
  // The backend's casing varies ("Validated", "validated"): compare without it.
  return badge(a.validationStatus, sameEnum(a.validationStatus, 'validated') ? 'Validated' : 'Not validated');
}

function crumbs(account, ...rest) {
  return h(
    'nav',
    { class: 'crumbs' },
    h('a', { href: '#/accounts' }, 'Accounts'),
    ' › ',
    h('a', { href: href(['accounts', account, 'numbers']) }, account),
    ' › ',
    ...rest,
  );
}

export async function renderList(ctx) {
  const account = ctx.params.name;
  const view = listView(ctx, {
    name: 'civic',
    noun: 'address',
    nouns: 'addresses',
    empty: 'No civic addresses: the enterprise has none in the Teams Admin Center, or the account has no Teams tenant or doesn’t sync.',
    path: apiPath('accounts', account, 'teamsCivicAddresses'),
    key: (a) => a.id,
    search: 'Address ID, description, company, city or postcode',
    fields: FILTER_FIELDS.civic,
    pageSize: ctx.query.maxpagesize,
    filterPlaceholder: "e.g. country eq 'US' or startswith(cityOrTown,'Res')",
    onRowClick: (a) => go(href(['accounts', account, 'civic', a.id])),
    columns: [
      { field: 'address', label: 'Address', render: (a) => h('a', { href: href(['accounts', account, 'civic', a.id]), testid: 'row-link' }, addressLine(a)) },
      { field: 'companyName', label: 'Company name', render: (a) => a.companyName || '' },
      { field: 'description', label: 'Description', render: (a) => a.description || '' },
      { field: 'validationStatus', label: 'Validated', render: validated },
      { field: 'locations', label: 'Locations', render: (a) => String(a.locations?.length ?? 0) },
      { field: 'id', label: 'ID', class: 'mono', render: (a) => a.id },
    ],
  });
  ctx.add(
    crumbs(account, 'Civic addresses'),
    h('h1', { testid: 'page-title' }, `Civic addresses of ${account}`),
    h('p', { class: 'lead' }, 'The enterprise keeps these in the Teams Admin Center; they are mirrored here and can’t be edited.'),
    h('div', { class: 'toolbar' }, view.refreshButton()),
    view.el,
  );
  await view.load();
}

export async function renderDetail(ctx) {
  const { name: account, id } = ctx.params;
  ctx.add(
    crumbs(account, h('a', { href: href(['accounts', account, 'civic']) }, 'Civic addresses'), ' › ', id),
    h('h1', { testid: 'page-title' }, `Civic address ${id}`),
  );
  const { data: a } = await api.get(apiPath('accounts', account, 'teamsCivicAddresses', id));
  ctx.add(
    h('p', { class: 'lead' }, addressLine(a)),
    details([
      ['ID', h('span', { class: 'mono' }, a.id)],
      ['Validated', h('span', { testid: 'civic-validated' }, validated(a))],
      ['Company name', a.companyName],
      ['Company ID', a.companyId],
      ['Description', a.description],
      ['House number', [a.houseNumber, a.houseNumberSuffix].filter(Boolean).join(' ')],
      ['Street', [a.preDirectional, a.streetName, a.streetSuffix, a.postDirectional].filter(Boolean).join(' ')],
      ['City or town', [a.cityOrTown, a.cityOrTownAlias ? `(${a.cityOrTownAlias})` : ''].filter(Boolean).join(' ')],
      ['County or district', a.countyOrDistrict],
      ['State or province', a.stateOrProvince],
      ['Postal or ZIP code', a.postalOrZipCode],
      ['Country', a.country],
      ['Latitude, longitude', a.latitude || a.longitude ? `${a.latitude ?? '—'}, ${a.longitude ?? '—'}` : ''],
      ['Tenant ID', a.tenantId ? h('span', { class: 'mono' }, a.tenantId) : ''],
      ['Partner ID', a.partnerId],
      ['Default location', a.defaultLocationId],
    ]),
    h('h2', null, 'Locations'),
    dataTable(
      'location',
      [
        { field: 'id', label: 'ID', class: 'mono', render: (l) => l.id },
        { field: 'description', label: 'Description', render: (l) => l.description || '' },
        { field: 'additionalInfo', label: 'Additional information', render: (l) => l.additionalInfo || '' },
        { field: 'isDefault', label: 'Default', render: (l) => yesNo(l.isDefault ?? l.id === a.defaultLocationId) },
        { field: 'elin', label: 'ELIN', class: 'mono', render: (l) => l.elin || '' },
      ],
      a.locations || [],
      { key: (l) => l.id, empty: 'No locations.' },
    ),
  );
  ctx.done();
}
