// Sync health where people work: when the sync last ran and how it went, from its newest run
// report (GET /syncRuns, newest first), shown on the Accounts and Numbers pages. A run that ended
// partial or failed is a banner, linked to its report on the Sync page.

import { api } from './api.js';
import { h } from './dom.js';
import { ago, plural } from './format.js';

/** An element that fills itself in with the sync's health; never holds the page up. */
export function syncHealth() {
  const el = h('p', { class: 'sync-health muted', testid: 'sync-health', role: 'status' }, 'Checking the sync…');
  api
    .list('/syncRuns', { query: { maxpagesize: 1 } })
    .then(({ value: [run] }) => {
      if (!run) {
        el.textContent = 'The sync has not run yet.';
        return;
      }
      const when = ago(run.finishedMs ?? run.startedMs);
      const bad = run.status === 'partial' || run.status === 'failed';
      const errors = run.errorsTotal ?? run.errors?.length ?? 0;
      el.className = bad ? 'sync-health notice' : 'sync-health muted';
      el.replaceChildren(
        `Last sync ${when}: `,
        bad ? `${run.status}, ${plural(errors, 'error')}` : run.status,
        run.accounts?.length ? ` (${run.accounts.join(', ')})` : '',
        '. ',
        h('a', { href: '#/sync' }, bad ? 'See what went wrong' : 'Sync runs'),
        '.',
      );
    })
    .catch(() => {
      el.textContent = 'The sync’s state could not be read.';
    });
  return el;
}
