// #/sync: the sync's run reports, newest first (GET /syncRuns); a run's drift and errors on click.

import { api } from '../api.js';
import { can } from '../auth.js';
import { h } from '../dom.js';
import { badge, dateTime, details, duration, plural } from '../format.js';
import { dataTable, listView } from '../listview.js';

function pushedCell(r) {
  const p = r.pushed || {};
  return `${plural(p.numbersUploaded ?? 0, 'number')} uploaded in ${plural(p.uploadOrders ?? 0, 'order')}; ${p.numbersReleased ?? 0} released in ${plural(p.releaseOrders ?? 0, 'order')}; ${plural(p.relationships ?? 0, 'relationship')}`;
}

function pulledCell(r) {
  const p = r.pulled || {};
  return `${plural(p.consents ?? 0, 'consent')}, ${plural(p.civicAddresses ?? 0, 'civic address', 'civic addresses')}, ${plural(p.tenantNumbers ?? 0, 'tenant number')}`;
}

function resultsCell(r) {
  const x = r.results || {};
  return `numbers ${x.numbersSynced ?? 0} synced / ${x.numbersFailed ?? 0} failed; accounts ${x.accountsSynced ?? 0} synced / ${x.accountsFailed ?? 0} failed; orders ${x.ordersCompleted ?? 0} done, ${x.ordersOpen ?? 0} open`;
}

/** A planner's run plans the jobs; a worker's run works one tenant's. */
function kindCell(r) {
  if (r.unit) {
    const accounts = r.accounts?.length ? ` (${plural(r.accounts.length, 'account')}: ${r.accounts.join(', ')})` : '';
    return h('span', null, 'Tenant ', h('code', null, r.unit), accounts);
  }
  const p = r.planned;
  return p ? `Plan: ${plural(p.jobs ?? 0, 'job')}` : 'Run';
}

function statusCell(r) {
  return h('span', null, badge(r.status), r.stoppedEarly ? h('span', { class: 'muted' }, ' stopped early') : null);
}

/** What a drift entry is about: the number, else the civic address, else the account, else the tenant. */
function driftTarget(d) {
  return d.telephoneNumber || d.civicAddressId || d.accountName || d.tenantId || '';
}

function runDetail(run) {
  const drift = run.drift || [];
  const errors = run.errors || [];
  return h(
    'div',
    { class: 'card', testid: 'sync-run' },
    h('h2', null, `Run ${run.id}`),
    details([
      ['Started', dateTime(run.startedMs)],
      ['Finished', dateTime(run.finishedMs)],
      ['Kind', kindCell(run)],
      ['Outcome', statusCell(run)],
      ['Pulled', pulledCell(run)],
      ['Pushed', pushedCell(run)],
      ['Results', resultsCell(run)],
      ['Backend calls', run.upstream ? `${run.upstream.calls ?? 0} (${plural(run.upstream.retries ?? 0, 'retry', 'retries')})` : '—'],
      ...(run.planned
        ? [
            [
              'Reconciling the estate',
              `${run.planned.fullCycleCalls ?? 0} backend calls, ${duration(Math.round((run.planned.fullCycleMinutes ?? 0) * 60000))} at the current budget; ${plural(run.planned.neverReconciled ?? 0, 'tenant')} never reconciled`,
            ],
          ]
        : []),
    ]),
    h('h3', null, `Drift (${drift.length})`),
    dataTable(
      'drift',
      [
        { field: 'kind', label: 'Kind', render: (d) => h('code', null, d.kind) },
        { field: 'target', label: 'Target', class: 'mono', render: driftTarget },
        { field: 'tenantId', label: 'Tenant', class: 'mono', render: (d) => d.tenantId || '' },
        { field: 'accountName', label: 'Account', render: (d) => d.accountName || '' },
        { field: 'detail', label: 'Detail', render: (d) => d.detail || '' },
      ],
      drift.map((d, i) => ({ ...d, _i: i })),
      { key: (d) => `${d._i}:${d.kind}:${driftTarget(d)}`, empty: 'No drift: the backend agrees with us.' },
    ),
    h('h3', null, `Errors (${errors.length})`),
    errors.length
      ? h(
          'ul',
          { class: 'errors', testid: 'sync-errors' },
          errors.map((e) => h('li', null, typeof e === 'string' ? e : JSON.stringify(e))),
        )
      : h('p', { class: 'muted' }, 'None.'),
  );
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The newest planner run in `rows` (a worker's report names its tenant as `unit`). */
const newestPlan = (rows) => rows.find((r) => !r.unit)?.id ?? null;

/**
 * "Sync now" (AdminUser): starts the planner at once (POST /syncRuns), then shows the list's
 * first page again every few seconds until a planner run newer than the click's is in it (at
 * most five minutes, a planner's longest run).
 */
async function syncNow(ctx, view, button) {
  ctx.clearFlash();
  button.disabled = true;
  const before = newestPlan(view.rows());
  try {
    await api.post('/syncRuns', {});
    ctx.ok('The sync has started. Its run shows in this list when it has finished.');
    for (let i = 0; i < 100 && view.el.isConnected; i++) {
      await view.refresh();
      const run = view.rows().find((r) => !r.unit);
      if (run && run.id !== before) {
        if (run.status === 'skipped') ctx.ok('A sync was already running: it does the work, and its run shows here when it has finished.');
        return;
      }
      await sleep(3000);
    }
    if (view.el.isConnected) ctx.ok('The sync has not finished yet. Refresh in a minute to see its run.');
  } catch (err) {
    ctx.error(err);
  } finally {
    button.disabled = false;
  }
}

export async function render(ctx) {
  const detail = h('div', { class: 'run-detail' });
  let selected = null;
  const view = listView(ctx, {
    name: 'sync',
    noun: 'run',
    path: '/syncRuns',
    key: (r) => r.id,
    filter: false,
    count: false,
    pageSize: ctx.query.maxpagesize || 25,
    empty: 'No sync runs yet. The sync runs on a schedule (every 5 minutes in AWS).',
    onRowClick: (run, tr) => {
      selected = run.id;
      for (const row of tr.parentElement.children) row.classList.toggle('selected', row === tr);
      detail.replaceChildren(runDetail(run));
      // The details are below a long list: bring them into view, and the focus with them.
      const card = detail.firstElementChild;
      card.tabIndex = -1;
      card.scrollIntoView({ block: 'start' });
      card.focus({ preventScroll: true });
    },
    onLoaded: (rows) => {
      const run = rows.find((r) => r.id === selected);
      detail.replaceChildren(run ? runDetail(run) : h('p', { class: 'muted' }, rows.length ? 'Select a run to see its drift report.' : ''));
    },
    columns: [
      { field: 'started', label: 'Started', render: (r) => dateTime(r.startedMs) },
      { field: 'finished', label: 'Finished', render: (r) => dateTime(r.finishedMs) },
      { field: 'duration', label: 'Took', render: (r) => duration((r.finishedMs ?? 0) - (r.startedMs ?? 0)) },
      { field: 'kind', label: 'Kind', render: kindCell },
      { field: 'status', label: 'Outcome', render: statusCell },
      { field: 'pulled', label: 'Pulled', render: pulledCell },
      { field: 'pushed', label: 'Pushed', render: pushedCell },
      { field: 'results', label: 'Results', render: resultsCell },
      { field: 'drift', label: 'Drift', render: (r) => String(r.drift?.length ?? 0) },
      { field: 'errors', label: 'Errors', render: (r) => String(r.errors?.length ?? 0) },
    ],
  });
  ctx.add(
    h('h1', { testid: 'page-title' }, 'Sync'),
    h(
      'p',
      { class: 'lead' },
      "Every 5 minutes the planner pulls consents and plans one job per tenant with work; each job pushes that tenant's pending changes, lands its orders and, when due, reports the drift it found.",
    ),
    h(
      'div',
      { class: 'toolbar' },
      can('operate')
        ? h(
            'button',
            {
              type: 'button',
              class: 'primary',
              testid: 'sync-now',
              onclick: (e) => syncNow(ctx, view, e.currentTarget),
            },
            'Sync now',
          )
        : null,
      view.refreshButton(),
    ),
    view.el,
    detail,
  );
  await view.load();
}
