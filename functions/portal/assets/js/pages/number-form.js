// #/accounts/<name>/numbers/new (manual input: many numbers, sent 100 at a time through
// :createOrUpdateNumbers) and #/accounts/<name>/numbers/<tn> (manage one number: PUT with If-Match).

import { ApiError, api, apiPath } from '../api.js';
import { confirmDialog, field, formState, h, options } from '../dom.js';
import { badge, errorList, plural } from '../format.js';
import {
  addressLine,
  CAPABILITIES,
  chunks,
  enabledServices,
  locationLabel,
  MAX_BATCH,
  parseNumbers,
  SERVICE,
  SERVICES,
  telephoneProblem,
  USAGES,
} from '../model.js';
import { go, href } from '../router.js';

const SIP_HEADER = /^[A-Za-z0-9_-]{1,100}$/;

/** The account's civic addresses (with locations); empty, with a note, if they can't be read. */
async function loadAddresses(account) {
  try {
    return { addresses: await api.listAll(apiPath('accounts', account, 'teamsCivicAddresses')) };
  } catch (err) {
    return { addresses: [], note: `Civic addresses could not be loaded: ${err.message}.` };
  }
}

/** Fills the form's civic addresses when they arrive; the page is ready then. */
async function fillAddresses(ctx, fields, pending) {
  const { addresses, note } = await pending;
  if (!ctx.isCurrent()) return;
  fields.setAddresses(addresses, note);
  ctx.done();
}

/**
 * The shared fields (num-*). `services`: the SERVICES entries to offer; `current`: the values to
 * start from ({service, usage, capabilities, civicAddressId, locationId, allowUpdate, sipHeader, countryCode}).
 */
function numberFields(services, current = {}) {
  const service = h(
    'select',
    { id: 'num-service', testid: 'num-service', name: 'service' },
    options(
      services.map((s) => ({ value: s.key, label: s.label })),
      current.service,
    ),
  );
  const usage = h('select', { testid: 'num-usage', name: 'usage' }, options(USAGES, current.usage || 'CallingUserAssignment'));
  const caps = Object.fromEntries(
    CAPABILITIES.map((c) => [
      c.value,
      h('input', {
        type: 'checkbox',
        testid: `num-cap-${c.value}`,
        name: 'capability',
        value: c.value,
        checked: (current.capabilities || []).includes(c.value),
      }),
    ]),
  );
  const civic = h('select', { testid: 'num-civic', name: 'civicAddressId' });
  const location = h('select', { testid: 'num-location', name: 'locationId' });
  const allowUpdate = h('input', { type: 'checkbox', testid: 'num-allow-update', name: 'allowTenantAddressUpdate', checked: Boolean(current.allowUpdate) });
  const sipHeader = h('input', {
    type: 'text',
    testid: 'num-sip-header',
    name: 'customSipHeader',
    maxlength: 100,
    value: current.sipHeader || '',
    autocomplete: 'off',
  });
  const countryCode = h('input', {
    type: 'text',
    testid: 'num-country-code',
    name: 'displayedCountryCode',
    value: current.countryCode || '',
    autocomplete: 'off',
  });

  // Civic addresses, keeping an id the number has even if the list doesn't (yet) hold it. They
  // arrive after the form is drawn (`setAddresses`): a long list must not hold up the page.
  let known = new Map();
  const addressNote = h('div', { class: 'hint loading', testid: 'num-civic-loading' }, 'Loading the civic addresses…');
  function setAddresses(addresses, note) {
    known = new Map(addresses.map((a) => [a.id, a]));
    const civicOptions = [
      { value: '', label: '(none)' },
      ...addresses.map((a) => ({ value: a.id, label: `${addressLine(a)}${a.description ? ` — ${a.description}` : ''} [${a.id}]` })),
    ];
    if (current.civicAddressId && !known.has(current.civicAddressId))
      civicOptions.push({ value: current.civicAddressId, label: `${current.civicAddressId} (not in the mirrored list)` });
    civic.replaceChildren(...options(civicOptions, civic.value || current.civicAddressId || ''));
    civic.disabled = false;
    fillLocations(locationChosen ? location.value : current.locationId);
    addressNote.className = 'hint';
    addressNote.textContent = note || '';
    addressNote.hidden = !note;
  }
  civic.append(...options([{ value: current.civicAddressId || '', label: current.civicAddressId || '(loading…)' }], current.civicAddressId || ''));
  civic.disabled = true;

  function fillLocations(selected) {
    const a = known.get(civic.value);
    const locs = a?.locations || [];
    const opts = [{ value: '', label: a ? '(address only)' : '(none)' }, ...locs.map((l) => ({ value: l.id, label: locationLabel(l) }))];
    if (selected && !locs.some((l) => l.id === selected)) opts.push({ value: selected, label: `${selected} (not in the mirrored list)` });
    location.replaceChildren(...options(opts, selected || ''));
  }
  fillLocations(current.locationId);
  civic.addEventListener('change', () => fillLocations(''));
  // A location picked before the addresses arrived is kept when they do.
  let locationChosen = false;
  location.addEventListener('change', () => {
    locationChosen = true;
  });

  const teamsBox = h(
    'fieldset',
    { class: 'teams-settings' },
    h('legend', null, 'Operator Connect / Teams Phone Mobile settings'),
    field('Usage', usage),
    h(
      'div',
      { class: 'field' },
      h('span', { class: 'label' }, 'Capabilities'),
      h(
        'div',
        { class: 'checks' },
        CAPABILITIES.map((c) => h('label', null, caps[c.value], ` ${c.label}`)),
      ),
    ),
    field('Civic address', civic, 'Emergency address from the enterprise’s Teams Admin Center. Without one, the enterprise sets it there.'),
    addressNote,
    field('Location', location),
    h('div', { class: 'field check' }, h('label', null, allowUpdate, ' Allow tenant to update address')),
    field('Displayed country code', countryCode, 'Optional; required for North American toll-free numbers.'),
  );
  const sipField = field(
    'Custom SIP header',
    sipHeader,
    'Optional value of the custom header (1–100 letters, digits, “_” or “-”). Not for Teams Phone Mobile or Call Protection.',
  );

  function sync() {
    const s = SERVICE[service.value];
    teamsBox.hidden = !s?.teams;
    sipHeader.disabled = s ? !s.sipHeader : false;
  }
  service.addEventListener('change', sync);
  sync();

  /** The values, checked the way the API checks them. Throws ApiError. */
  function read() {
    const s = SERVICE[service.value];
    if (!s) throw ApiError.input('serviceDetails', 'Choose a service.');
    const v = {
      service: s,
      usage: usage.value,
      capabilities: CAPABILITIES.map((c) => c.value).filter((c) => caps[c].checked),
      civicAddressId: civic.value,
      locationId: location.value,
      allowUpdate: allowUpdate.checked,
      sipHeader: s.sipHeader ? sipHeader.value.trim() : '',
      countryCode: countryCode.value.trim(),
    };
    const base = `serviceDetails.${s.key}.configuration`;
    if (s.teams) {
      if (!v.usage) throw ApiError.input(`${base}.usage`, 'Choose a usage.');
      if (!v.capabilities.length) throw ApiError.input(`${base}.choosableCapabilities`, 'Choose at least one capability.');
    }
    if (v.sipHeader && !SIP_HEADER.test(v.sipHeader)) {
      throw ApiError.input('configuration.customSipHeader', 'The custom SIP header may only hold 1 to 100 letters, digits, “_” or “-”.');
    }
    return v;
  }

  return { el: [h('div', { class: 'field' }, h('label', { for: 'num-service' }, 'Service'), service), teamsBox, sipField], read, setAddresses };
}

/**
 * A number's JSON from the form's values. `base` (when managing) is the stored number: what the
 * form doesn't show (other services, additional usages, assignment status) is kept.
 */
function numberBody(tn, account, v, base, baseService) {
  const n = base ? structuredClone(base) : { telephoneNumber: tn, accountName: account, serviceDetails: {} };
  delete n.serviceProvisioningStatus;
  delete n.serviceProvisioningErrors;
  n.serviceDetails = n.serviceDetails || {};
  if (baseService && baseService !== v.service.key) delete n.serviceDetails[baseService];
  if (v.service.teams) {
    const prev = n.serviceDetails[v.service.key] || {};
    const cfg = { ...(prev.configuration || {}) };
    delete cfg.acquiredCapabilities;
    delete cfg.availableCapabilities;
    cfg.usage = v.usage;
    cfg.choosableCapabilities = v.capabilities;
    // Ticked: the enterprise may change the address. Unticked with an address: it may not.
    // Unticked without one: left out, so the enterprise supplies it in the Teams Admin Center.
    if (v.allowUpdate) cfg.allowTenantAddressUpdate = true;
    else if (v.civicAddressId || v.locationId) cfg.allowTenantAddressUpdate = false;
    else delete cfg.allowTenantAddressUpdate;
    for (const [k, val] of [
      ['civicAddressId', v.civicAddressId],
      ['locationId', v.locationId],
      ['displayedCountryCode', v.countryCode],
    ]) {
      if (val) cfg[k] = val;
      else delete cfg[k];
    }
    n.serviceDetails[v.service.key] = { ...prev, enabled: true, configuration: cfg };
  } else {
    n.serviceDetails[v.service.key] = { enabled: true };
  }
  const conf = { ...(n.configuration || {}) };
  if (v.sipHeader) conf.customSipHeader = v.sipHeader;
  else delete conf.customSipHeader;
  if (Object.keys(conf).length) n.configuration = conf;
  else delete n.configuration;
  return n;
}

/** Names a batch error's `numbers[i]…` target by its telephone number. */
function annotate(err, batch) {
  // `numbers[3].serviceDetails…` (counted from 0) reads as `+15105850003: serviceDetails…`.
  const name = (t) => {
    const m = /^numbers\[(\d+)\]\.?(.*)$/.exec(t || '');
    const tn = m && batch[Number(m[1])];
    return tn ? (m[2] ? `${tn}: ${m[2]}` : tn) : t;
  };
  err.target = name(err.target);
  err.details = (err.details || []).map((d) => ({ ...d, target: name(d.target) }));
  return err;
}

/**
 * Before saving: the API's pre-flight (`:validateNumbers`, writing nothing), 100 numbers a call.
 * Warnings (a number outside the tenant's consented countries fails at the next sync) are asked
 * about; true means save. The API's own refusals come back from the save itself, at the field.
 * If the check itself fails, the save goes ahead, as it would have without it.
 */
async function preflightOk(account, tns) {
  // Each distinct message once (a tenant without consent is the same news for every number).
  const warnings = new Set();
  let warned = 0;
  try {
    for (const batch of chunks(tns, MAX_BATCH)) {
      const { data } = await api.post(`${apiPath('accounts', account)}:validateNumbers`, { numbers: batch.map((tn) => ({ telephoneNumber: tn })) });
      for (const v of data?.numbers ?? []) {
        const mine = (v.problems ?? []).filter((p) => p.severity === 'warning');
        if (mine.length) warned++;
        for (const p of mine) warnings.add(p.message);
      }
    }
  } catch {
    return true;
  }
  if (!warned) return true;
  const all = [...warnings];
  const shown = all.slice(0, 10);
  return confirmDialog({
    title: 'Save numbers that will probably fail?',
    message: `${plural(warned, 'number is', 'numbers are')} likely to be refused by Microsoft at the next sync:`,
    extra: h(
      'ul',
      { class: 'errors', testid: 'preflight-warnings' },
      shown.map((m) => h('li', null, m)),
      all.length > shown.length ? h('li', null, `and ${all.length - shown.length} more`) : null,
    ),
    okLabel: 'Save anyway',
    danger: false,
  });
}

export async function renderCreate(ctx) {
  const account = ctx.params.name;
  const addressesLoaded = loadAddresses(account);
  const { data: acct } = await api.get(apiPath('accounts', account));
  const services = enabledServices(acct.serviceDetails);
  ctx.add(
    h(
      'nav',
      { class: 'crumbs' },
      h('a', { href: '#/accounts' }, 'Accounts'),
      ' › ',
      h('a', { href: href(['accounts', account, 'numbers']) }, account),
      ' › Create numbers',
    ),
    h('h1', { testid: 'page-title' }, `Create numbers for ${account}: manual input`),
  );
  if (!services.length) {
    ctx.add(
      h(
        'p',
        { class: 'notice' },
        'This account has no services enabled. ',
        h('a', { href: href(['accounts', account, 'manage']) }, 'Manage the account'),
        ' to enable one first.',
      ),
    );
  }
  const fields = numberFields(services.length ? services : SERVICES, { service: services[0]?.key });
  const list = h('textarea', { testid: 'num-list', name: 'numbers', rows: 8, class: 'mono', placeholder: '+1 510 585 0321\n+15105850322, +15105850323' });
  const submit = h('button', { type: 'submit', class: 'primary', testid: 'num-submit' }, 'Create');
  const progress = h('p', { class: 'hint', testid: 'num-progress' });
  const form = h(
    'form',
    { class: 'card form', novalidate: true },
    fields.el,
    field(
      'Telephone numbers',
      list,
      'E.164 with a leading + and the country code, as “+1 425 555 0102” or “+14255550102”; separate them with new lines or commas.',
    ),
    h('div', { class: 'actions' }, submit, h('a', { class: 'button', href: href(['accounts', account, 'numbers']) }, 'Cancel')),
    progress,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    ctx.clearFlash();
    let v;
    try {
      v = fields.read();
    } catch (err) {
      ctx.error(err);
      return;
    }
    const tns = parseNumbers(list.value);
    if (!tns.length) {
      ctx.error(ApiError.input('numbers', 'Enter at least one telephone number.'));
      return;
    }
    const bad = tns.map((tn) => [tn, telephoneProblem(tn)]).filter(([, p]) => p);
    if (bad.length) {
      ctx.error(
        ApiError.input(
          'telephoneNumber',
          `${plural(bad.length, 'telephone number is', 'telephone numbers are')} not valid.`,
          bad.map(([tn, p]) => ({ code: 'InvalidInput', target: tn, message: p })),
        ),
      );
      return;
    }
    submit.disabled = true;
    // Only what the sync sends to Microsoft can be refused there: Operator Connect and Teams
    // Phone Mobile numbers of an account that syncs the service.
    const synced = v.service.teams && acct.serviceDetails?.[v.service.key]?.syncEnabled;
    if (synced && !(await preflightOk(account, tns))) {
      submit.disabled = false;
      return;
    }
    ctx.loading();
    let done = 0;
    try {
      for (const batch of chunks(tns, MAX_BATCH)) {
        progress.textContent = `Sending ${done + 1}–${done + batch.length} of ${tns.length}…`;
        try {
          await api.post(`${apiPath('accounts', account)}:createOrUpdateNumbers`, { numbers: batch.map((tn) => numberBody(tn, account, v)) });
        } catch (err) {
          throw annotate(err, batch);
        }
        done += batch.length;
      }
      go(href(['accounts', account, 'numbers']), { ok: `Created or updated ${plural(done, 'number')} in ${account}.` });
    } catch (err) {
      if (done) err.message = `${err.message} (the first ${plural(done, 'number')} were saved)`;
      progress.textContent = '';
      ctx.error(err);
      ctx.done();
      submit.disabled = false;
    }
  });
  ctx.add(form);
  const drawn = formState(form);
  ctx.confirmLeave(() => formState(form) !== drawn);
  await fillAddresses(ctx, fields, addressesLoaded);
}

export async function renderManage(ctx) {
  const account = ctx.params.name;
  const tn = ctx.params.tn;
  const addressesLoaded = loadAddresses(account);
  const [{ data: acct }, { data: number, etag }] = await Promise.all([
    api.get(apiPath('accounts', account)),
    api.get(apiPath('accounts', account, 'numbers', tn)),
  ]);
  const numberServices = enabledServices(number.serviceDetails);
  const primary = numberServices.find((s) => s.teams) || numberServices[0];
  const offered = SERVICES.filter((s) => acct.serviceDetails?.[s.key]?.enabled || s === primary);
  const cfg = primary?.teams ? number.serviceDetails[primary.key].configuration || {} : {};
  const fields = numberFields(offered.length ? offered : SERVICES, {
    service: primary?.key,
    usage: cfg.usage,
    capabilities: cfg.choosableCapabilities,
    civicAddressId: cfg.civicAddressId,
    locationId: cfg.locationId,
    allowUpdate: cfg.allowTenantAddressUpdate,
    sipHeader: number.configuration?.customSipHeader,
    countryCode: cfg.displayedCountryCode,
  });
  const save = h('button', { type: 'submit', class: 'primary', testid: 'num-save' }, 'Save');
  const others = numberServices.filter((s) => s !== primary);
  const form = h(
    'form',
    { class: 'card form', novalidate: true },
    h(
      'div',
      { class: 'field' },
      h('span', { class: 'label' }, 'Telephone number'),
      h('span', { class: 'mono', testid: 'num-telephone' }, number.telephoneNumber),
    ),
    h(
      'div',
      { class: 'field' },
      h('span', { class: 'label' }, 'Sync status'),
      h('span', null, badge(number.serviceProvisioningStatus), errorList(number.serviceProvisioningErrors)),
    ),
    fields.el,
    others.length ? h('p', { class: 'hint' }, `Also enabled, and kept: ${others.map((s) => s.label).join(', ')}.`) : null,
    h('div', { class: 'actions' }, save, h('a', { class: 'button', href: href(['accounts', account, 'numbers']) }, 'Cancel')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    ctx.clearFlash();
    let v;
    try {
      v = fields.read();
    } catch (err) {
      ctx.error(err);
      return;
    }
    save.disabled = true;
    ctx.loading();
    try {
      const body = numberBody(tn, account, v, number, primary?.key);
      await api.put(apiPath('accounts', account, 'numbers', tn), body, { ifMatch: etag || undefined });
      go(href(['accounts', account, 'numbers']), { ok: `Number ${tn} saved.` });
    } catch (err) {
      if (err.status === 412) err.message = `the number was changed since this form was opened (perhaps by the sync); reload and try again (${err.message})`;
      ctx.error(err);
      ctx.done();
      save.disabled = false;
    }
  });
  ctx.add(
    h(
      'nav',
      { class: 'crumbs' },
      h('a', { href: '#/accounts' }, 'Accounts'),
      ' › ',
      h('a', { href: href(['accounts', account, 'numbers']) }, account),
      ' › ',
      tn,
    ),
    h('h1', { testid: 'page-title' }, `Manage number ${tn}`),
    form,
  );
  const drawn = formState(form);
  ctx.confirmLeave(() => formState(form) !== drawn);
  await fillAddresses(ctx, fields, addressesLoaded);
}
