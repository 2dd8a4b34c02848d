// #/accounts/new[?tenant=<id>] and #/accounts/<name>/manage: the account form. Create sends
// `PUT` with `If-None-Match: *`; manage sends the whole account back with `If-Match: <etag>`.

import { ApiError, api, apiPath } from '../api.js';
import { confirmDialog, field, fieldError, formState, h } from '../dom.js';
import { badge } from '../format.js';
import { isGuid, isName, SERVICES } from '../model.js';
import { go, href } from '../router.js';

/** A deep copy without what only the server sets. */
function writable(account) {
  const a = structuredClone(account);
  delete a.serviceProvisioningStatus;
  delete a.serviceProvisioningErrors;
  for (const s of SERVICES) {
    const svc = a.serviceDetails?.[s.key];
    if (svc) delete svc.numberCount;
  }
  if (a.serviceDetails?.teamsDirectRouting) delete a.serviceDetails.teamsDirectRouting.subdomainStatus;
  return a;
}

/** The text of a `Warning: 299 <agent> "<text>"` header. */
function warningText(header) {
  const m = /^\d{3} \S+ "(.*)"$/.exec(header || '');
  return m ? m[1] : null;
}

export async function render(ctx) {
  const editing = ctx.params.name !== undefined;
  let account = null;
  let etag = null;
  if (editing) {
    const res = await api.get(apiPath('accounts', ctx.params.name));
    account = res.data;
    etag = res.etag;
  }
  const sd = account?.serviceDetails || {};
  const dr = sd.teamsDirectRouting?.configuration;
  const initialSync = SERVICES.some((s) => s.sync && sd[s.key]?.enabled && sd[s.key].syncEnabled);

  const name = h('input', {
    type: 'text',
    testid: 'account-name',
    name: 'name',
    required: true,
    maxlength: 100,
    pattern: '[A-Za-z0-9_\\-]+',
    autocomplete: 'off',
    value: account?.name ?? '',
    readOnly: editing,
  });
  const tenant = h('input', {
    type: 'text',
    testid: 'account-tenant',
    name: 'teamsTenantId',
    class: 'mono',
    placeholder: 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx',
    value: sd.teamsTenantId ?? ctx.query.tenant ?? '',
    autocomplete: 'off',
  });
  const correlation = h('input', {
    type: 'text',
    testid: 'account-correlation',
    name: 'correlationId',
    value: account?.correlationId ?? '',
    autocomplete: 'off',
  });
  const svcBoxes = Object.fromEntries(
    SERVICES.map((s) => [s.key, h('input', { type: 'checkbox', testid: `svc-${s.key}`, name: s.key, checked: Boolean(sd[s.key]?.enabled) })]),
  );
  const sync = h('input', { type: 'checkbox', testid: 'account-sync', name: 'syncEnabled', checked: initialSync });
  const callScreening = h('input', {
    type: 'checkbox',
    testid: 'account-call-screening',
    name: 'callScreening',
    checked: dr ? Boolean(dr.callScreening) : true,
  });
  const subdomain = h('input', {
    type: 'text',
    testid: 'account-subdomain',
    name: 'subdomain',
    maxlength: 10,
    value: dr?.subdomain ?? '',
    autocomplete: 'off',
  });
  const token1 = h('input', {
    type: 'text',
    testid: 'account-token1',
    name: 'region1Token',
    maxlength: 100,
    value: dr?.subdomainTokens?.region1Token ?? '',
    autocomplete: 'off',
  });
  const token2 = h('input', {
    type: 'text',
    testid: 'account-token2',
    name: 'region2Token',
    maxlength: 100,
    value: dr?.subdomainTokens?.region2Token ?? '',
    autocomplete: 'off',
  });
  const submit = h('button', { type: 'submit', class: 'primary', testid: 'account-submit' }, editing ? 'Save' : 'Create');
  // Creating: the account that already serves the tenant, from its request for information.
  const tenantNote = h('p', { class: 'notice', testid: 'tenant-has-account', hidden: true });
  let servedBy = null;
  async function checkTenant() {
    const id = tenant.value.trim();
    servedBy = null;
    tenantNote.hidden = true;
    if (editing || !isGuid(id)) return;
    try {
      const { data } = await api.get(apiPath('teamsRequestsForInformation', id));
      if (id !== tenant.value.trim() || !data?.accountName) return;
      servedBy = data.accountName;
      tenantNote.replaceChildren(
        'This tenant already has account ',
        h('a', { href: href(['accounts', servedBy, 'numbers']), testid: 'tenant-account-link' }, servedBy),
        '. Open it instead: a second account for the same tenant is rarely wanted.',
      );
      tenantNote.hidden = false;
    } catch {
      // No request for information (404) or no answer: nothing to warn about.
    }
  }
  tenant.addEventListener('change', checkTenant);

  const form = h(
    'form',
    { class: 'card form', novalidate: true },
    field('Account name', name, editing ? 'The name is the account’s key and can’t be changed.' : 'Letters, digits, “_” and “-”; at most 100 characters.'),
    field(
      'Teams tenant ID',
      tenant,
      'The enterprise’s Microsoft 365 tenant. It can’t change once the account has Operator Connect or Teams Phone Mobile numbers.',
    ),
    tenantNote,
    field('Correlation ID', correlation, 'Optional: your identifier for this enterprise in other systems.'),
    h(
      'fieldset',
      null,
      h('legend', null, 'Services'),
      SERVICES.map((s) => h('div', { class: 'field check' }, h('label', null, svcBoxes[s.key], ` Enable ${s.label}`))),
      h(
        'div',
        { class: 'field check' },
        h('label', null, sync, ' Sync with backend service'),
        h(
          'div',
          { class: 'hint' },
          'Flow-through provisioning: the enterprise and its numbers are provisioned in Operator Connect / Teams Phone Mobile. Applies to every service that has the setting (not Call Protection).',
        ),
      ),
    ),
    h(
      'fieldset',
      null,
      h('legend', null, 'Communications Services Settings: Teams Direct Routing'),
      sd.teamsDirectRouting ? h('p', null, 'Subdomain provisioned state: ', badge(sd.teamsDirectRouting.subdomainStatus)) : null,
      h(
        'div',
        { class: 'field check' },
        h('label', null, callScreening, ' Enable call screening'),
        h('div', { class: 'hint' }, 'Caller-ID screening: only numbers enabled for Direct Routing may place Direct Routing calls.'),
      ),
      field('Subdomain', subdomain, 'The label for this enterprise’s Direct Routing subdomain: 1–10 letters, digits, “_” or “-”.'),
      field('Subdomain token, region 1', token1, 'The DNS TXT value from the customer’s Microsoft 365 admin center.'),
      field('Subdomain token, region 2', token2),
      h('p', { class: 'hint' }, 'Used only when Teams Direct Routing is enabled. Leave all three empty to set them later.'),
    ),
    h('div', { class: 'actions' }, submit, h('a', { class: 'button', href: '#/accounts' }, 'Cancel')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    ctx.clearFlash();
    const accountName = name.value.trim();
    const refuse = (control, target, message) => {
      fieldError(control, message);
      ctx.error(ApiError.input(target, message));
      control.focus();
    };
    if (!isName(accountName)) {
      refuse(name, 'name', 'The account name must be 1 to 100 letters, digits, “_” or “-”.');
      return;
    }
    const tenantId = tenant.value.trim();
    if (tenantId && !isGuid(tenantId)) {
      refuse(tenant, 'serviceDetails.teamsTenantId', 'The Teams tenant ID must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).');
      return;
    }
    const body = editing ? writable(account) : { name: accountName };
    body.name = accountName;
    const corr = correlation.value.trim();
    if (corr) body.correlationId = corr;
    else delete body.correlationId;
    const details = body.serviceDetails || {};
    if (tenantId) details.teamsTenantId = tenantId;
    else delete details.teamsTenantId;
    const syncChanged = sync.checked !== initialSync;
    for (const s of SERVICES) {
      const on = svcBoxes[s.key].checked;
      const prev = details[s.key];
      if (!on && !prev) continue;
      const svc = { ...(prev || {}), enabled: on };
      if (s.sync) svc.syncEnabled = prev && !syncChanged && typeof prev.syncEnabled === 'boolean' && prev.enabled ? prev.syncEnabled : sync.checked;
      details[s.key] = svc;
    }
    const drSvc = details.teamsDirectRouting;
    if (drSvc) {
      const sub = subdomain.value.trim();
      const t1 = token1.value.trim();
      const t2 = token2.value.trim();
      if (sub || t1 || t2) {
        drSvc.configuration = { callScreening: callScreening.checked, subdomain: sub, subdomainTokens: { region1Token: t1, region2Token: t2 } };
      } else {
        delete drSvc.configuration;
      }
    }
    body.serviceDetails = details;

    // The tenant may have been typed a moment ago: its check must be done before this one.
    if (!editing) await checkTenant();
    if (!editing && servedBy) {
      const ok = await confirmDialog({
        title: 'A second account for this tenant?',
        message: `Tenant ${tenantId} already has account ${servedBy}. Create ${accountName} as a second account anyway?`,
        okLabel: 'Create anyway',
        danger: false,
      });
      if (!ok) return;
    }

    submit.disabled = true;
    ctx.loading();
    try {
      const res = await api.put(apiPath('accounts', accountName), body, editing ? { ifMatch: etag || undefined } : { ifNoneMatch: '*' });
      const warning = warningText(res.headers.get('warning'));
      const message = `Account ${accountName} ${editing ? 'saved' : 'created'}.${warning ? ` Note: ${warning}.` : ''}`;
      go(editing ? '#/accounts' : href(['accounts', accountName, 'numbers']), { ok: message });
    } catch (err) {
      if (!editing && err.status === 412) err.message = `an account named ${accountName} already exists (${err.message})`;
      if (editing && err.status === 412)
        err.message = `the account was changed by someone else since this form was opened; reload and try again (${err.message})`;
      ctx.error(err);
      ctx.done();
      submit.disabled = false;
    }
  });

  ctx.add(
    h('nav', { class: 'crumbs' }, h('a', { href: '#/accounts' }, 'Accounts'), ' › ', editing ? account.name : 'Create account'),
    h('h1', { testid: 'page-title' }, editing ? `Manage account ${account.name}` : 'Create account'),
    editing
      ? h(
          'p',
          { class: 'toolbar' },
          h('a', { href: href(['accounts', account.name, 'numbers']) }, 'View numbers'),
          ' · ',
          h('a', { href: href(['accounts', account.name, 'civic']) }, 'Civic addresses'),
        )
      : ctx.query.tenant
        ? h('p', { class: 'lead' }, 'Creating an account for the tenant of a request for information.')
        : null,
    form,
  );
  const drawn = formState(form);
  ctx.confirmLeave(() => formState(form) !== drawn);
  await checkTenant();
  ctx.done();
}
