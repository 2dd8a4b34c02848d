// #/rfis/<tenantId>: one request for information, its contacts and countries; update the
// relationship status (merge patch) and create an account for the tenant.

import { ApiError, api, apiPath } from '../api.js';
import { can } from '../auth.js';
import { field, fieldError, formState, h, options } from '../dom.js';
import { badge, dateTime, details, errorList } from '../format.js';
import { MAX_COMMENT, MAX_TICKET_ID, RELATIONSHIP_STATUSES } from '../model.js';
import { href } from '../router.js';
import { companyName, relationshipCell } from './rfis.js';

function summary(rfi) {
  const rel = rfi.customerRelationship || {};
  return [
    h('h2', null, 'Enterprise'),
    details([
      ['Tenant ID', h('span', { class: 'mono', testid: 'rfi-tenant' }, rfi.tenantId)],
      ['Company name', companyName(rfi)],
      ['Consent status', badge(rfi.status)],
      ['Consented on', dateTime(rfi.consentedOn)],
      ['Last modified', dateTime(rfi.lastModifiedOn)],
      ['Consented countries', (rfi.consentedCountries || []).join(', ')],
      ['Product context', rfi.productContext],
      ['Account', rfi.accountName ? h('a', { href: href(['accounts', rfi.accountName, 'numbers']) }, rfi.accountName) : null],
      ['Sync status', badge(rfi.serviceProvisioningStatus)],
      rfi.serviceProvisioningErrors?.length ? ['Sync errors', errorList(rfi.serviceProvisioningErrors)] : null,
    ]),
    h('h2', null, 'Relationship'),
    details([
      ['Status', h('span', { testid: 'rfi-current-status' }, relationshipCell(rel.status))],
      ['Reason (comment)', rel.comment],
      ['Ticket ID', rel.ticketId],
      ['Last modified', dateTime(rel.lastModifiedOn)],
    ]),
    h('h2', null, 'Contacts'),
    rfi.contacts?.length
      ? h(
          'table',
          { class: 'grid', testid: 'contact-table' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Name', 'Email', 'Telephone', 'Company', 'Company size'].map((t) => h('th', null, t)),
            ),
          ),
          h(
            'tbody',
            null,
            rfi.contacts.map((c) =>
              h(
                'tr',
                { testid: 'row', 'data-key': c.email },
                h('td', { testid: 'cell-fullName', 'data-label': 'Name' }, c.fullName),
                h('td', { testid: 'cell-email', 'data-label': 'Email' }, h('a', { href: `mailto:${c.email}` }, c.email)),
                h('td', { testid: 'cell-telephoneNumber', 'data-label': 'Telephone' }, c.telephoneNumber || ''),
                h('td', { testid: 'cell-companyName', 'data-label': 'Company' }, c.companyName || ''),
                h('td', { testid: 'cell-companySize', 'data-label': 'Company size' }, c.companySize || ''),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No contacts.'),
  ];
}

function statusForm(ctx, tenantId, rfi, onSaved) {
  const current = rfi.customerRelationship?.status;
  const status = h('select', { testid: 'rfi-status', name: 'status' }, options(RELATIONSHIP_STATUSES, current));
  // No `maxlength`: a pasted value that is too long is refused with a reason, not silently cut.
  const reason = h('textarea', { id: 'rfi-reason', testid: 'rfi-reason', name: 'comment', rows: 3 });
  const ticket = h('input', { type: 'text', testid: 'rfi-ticket', name: 'ticketId' });
  const save = h('button', { type: 'submit', class: 'primary', testid: 'rfi-save' }, 'Update relationship status');
  const reasonHint = h('div', { class: 'hint' });
  const showHint = () => {
    const s = RELATIONSHIP_STATUSES.find((x) => x.value === status.value);
    reasonHint.textContent = s?.needsReason ? `A reason is required for “${s.label}”.` : 'Optional.';
    reason.required = Boolean(s?.needsReason);
  };
  status.addEventListener('change', showHint);
  showHint();

  const form = h(
    'form',
    { class: 'card', novalidate: true },
    h('h2', null, 'Update relationship status'),
    field('Status', status),
    h('div', { class: 'field' }, h('label', { for: 'rfi-reason' }, 'Reason'), reason, reasonHint),
    field('Ticket ID', ticket, `Optional: your ticket or request ID, at most ${MAX_TICKET_ID} characters.`),
    h('div', { class: 'actions' }, save),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    ctx.clearFlash();
    const chosen = RELATIONSHIP_STATUSES.find((x) => x.value === status.value);
    const comment = reason.value.trim();
    const ticketId = ticket.value.trim();
    const problems = [];
    if (chosen?.needsReason && !comment) problems.push([reason, `A reason is required for ${chosen.label}.`]);
    if (comment.length > MAX_COMMENT) problems.push([reason, `The reason is ${comment.length} characters; at most ${MAX_COMMENT} are allowed.`]);
    if (ticketId.length > MAX_TICKET_ID) problems.push([ticket, `The ticket ID is ${ticketId.length} characters; at most ${MAX_TICKET_ID} are allowed.`]);
    if (problems.length) {
      for (const [control, message] of problems) fieldError(control, message);
      ctx.error(ApiError.input(null, problems.length === 1 ? problems[0][1] : 'Some fields need attention.'));
      problems[0][0].focus();
      return;
    }
    const customerRelationship = { status: status.value };
    if (comment) customerRelationship.comment = comment;
    if (ticketId) customerRelationship.ticketId = ticketId;
    save.disabled = true;
    ctx.loading();
    try {
      const { data } = await api.patch(
        apiPath('teamsRequestsForInformation', tenantId),
        { customerRelationship },
        { contentType: 'application/merge-patch+json' },
      );
      onSaved(data, `Relationship status of ${tenantId} set to ${chosen?.label ?? status.value}.`);
    } catch (err) {
      // The server's answer at its field, too.
      const at = { 'customerRelationship.comment': reason, 'customerRelationship.ticketId': ticket };
      for (const e of [err, ...(err.details || [])]) if (at[e.target]) fieldError(at[e.target], e.message);
      ctx.error(err);
      ctx.done();
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

export async function render(ctx) {
  const tenantId = ctx.params.tenantId;
  const title = h('h1', { testid: 'page-title' }, 'Request for Information');
  ctx.add(h('nav', { class: 'crumbs' }, h('a', { href: '#/rfis' }, 'Requests for Information'), ' › ', tenantId), title);
  const body = h('div', { class: 'detail' });
  ctx.add(body);

  function show(rfi) {
    title.textContent = `Request for Information: ${companyName(rfi) || rfi.tenantId}`;
    const actions = h('div', { class: 'toolbar' });
    if (rfi.accountName) {
      // One account serves a tenant: a second one is almost always a mistake.
      actions.append(
        h(
          'a',
          { class: 'button primary', testid: 'rfi-open-account', href: href(['accounts', rfi.accountName, 'numbers']) },
          `Open account ${rfi.accountName}`,
        ),
      );
    } else if (can('write')) {
      actions.append(
        h('a', { class: 'button primary', testid: 'rfi-create-account', href: href(['accounts', 'new'], { tenant: rfi.tenantId }) }, 'Create account'),
      );
    }
    actions.append(
      h(
        'button',
        {
          type: 'button',
          testid: 'refresh',
          onclick: () => {
            ctx.clearFlash();
            load();
          },
        },
        'Refresh',
      ),
    );
    const form = can('write') ? statusForm(ctx, tenantId, rfi, saved) : null;
    body.replaceChildren(actions, h('div', { class: 'columns' }, h('div', null, summary(rfi)), form ? h('div', null, form) : null));
    if (form) {
      const drawn = formState(form);
      ctx.confirmLeave(() => formState(form) !== drawn);
    }
  }

  function saved(rfi, message) {
    show(rfi);
    ctx.ok(message);
    ctx.done();
  }

  async function load() {
    ctx.loading();
    try {
      const { data } = await api.get(apiPath('teamsRequestsForInformation', tenantId));
      show(data);
    } catch (err) {
      body.replaceChildren(h('p', { class: 'muted' }, 'The request could not be loaded.'));
      ctx.error(err);
    }
    ctx.done();
  }

  await load();
}
