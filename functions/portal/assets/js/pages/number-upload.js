// #/accounts/<name>/numbers/upload: a CSV file (≤10,000 rows) posted to :importNumbers with an
// upload progress bar; the result summary, or one list item per bad field (`line N: heading`).

import { ApiError, api, apiPath } from '../api.js';
import { field, h, saveBlob } from '../dom.js';
import { plural } from '../format.js';
import { csvHeadings } from '../model.js';
import { href } from '../router.js';

const MAX_ROWS = 10_000;

function template(account) {
  const headings = csvHeadings();
  const example = headings.map(
    (c) =>
      ({
        telephoneNumber: '+15105850321',
        accountName: account,
        serviceDetails_teamsOperatorConnect_enabled: 'true',
        serviceDetails_teamsOperatorConnect_configuration_usage: 'CallingUserAssignment',
        serviceDetails_teamsOperatorConnect_configuration_choosableCapabilities: 'InboundCalling;OutboundCalling',
        serviceDetails_teamsOperatorConnect_configuration_allowTenantAddressUpdate: 'true',
      })[c] ?? '',
  );
  return new Blob([`${headings.join(',')}\r\n${example.join(',')}\r\n`], { type: 'text/csv' });
}

/** The response's fields as a list: `imported` first, then whatever else the server reports. */
function summary(account, result) {
  const imported = result?.imported;
  const rest = Object.entries(result || {}).filter(([k]) => k !== 'imported');
  return [
    h('p', { class: 'result-ok' }, typeof imported === 'number' ? `Imported ${plural(imported, 'number')} into ${account}.` : 'The file was imported.'),
    rest.length
      ? h(
          'dl',
          { class: 'details' },
          rest.map(([k, v]) => [h('dt', null, k), h('dd', null, typeof v === 'object' ? JSON.stringify(v) : String(v))]),
        )
      : null,
    h('p', null, h('a', { href: href(['accounts', account, 'numbers']) }, 'View the numbers')),
  ];
}

function problems(err) {
  const items = err.details?.length ? err.details : [{ target: err.target, message: err.message }];
  return [
    h('p', { class: 'result-error' }, `The file was rejected: ${err.code}: ${err.message}`),
    h(
      'ul',
      { class: 'csv-errors' },
      items.map((d) => h('li', { testid: 'csv-error' }, d.target ? [h('strong', null, d.target), `: ${d.message}`] : d.message)),
    ),
  ];
}

export async function render(ctx) {
  const account = ctx.params.name;
  const file = h('input', { type: 'file', testid: 'csv-file', name: 'file', accept: '.csv,text/csv' });
  const submit = h('button', { type: 'submit', class: 'primary', testid: 'csv-submit' }, 'Upload');
  const progress = h('progress', { testid: 'csv-progress', max: 100, value: 0, hidden: true });
  const status = h('span', { class: 'hint', testid: 'csv-status', 'aria-live': 'polite' });
  const result = h('div', { class: 'csv-result', testid: 'csv-result' });

  const form = h(
    'form',
    { class: 'card form' },
    h(
      'p',
      null,
      'A CSV file of up to 10,000 numbers. The first line holds the headings: each is a field path of the API with “.” written “_” (for example ',
      h('code', null, 'serviceDetails_teamsOperatorConnect_configuration_usage'),
      '). Several values in one cell (capabilities) are separated by “;”. Rows for numbers that exist replace them.',
    ),
    h(
      'p',
      null,
      h(
        'button',
        { type: 'button', class: 'link', testid: 'csv-template', onclick: () => saveBlob(template(account), `${account}-numbers-template.csv`) },
        'Download a template',
      ),
    ),
    field('CSV file', file),
    h('div', { class: 'actions' }, submit, h('a', { class: 'button', href: href(['accounts', account, 'numbers']) }, 'Back to numbers')),
    h('div', { class: 'progress-row' }, progress, status),
  );

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    ctx.clearFlash();
    result.replaceChildren();
    const f = file.files?.[0];
    if (!f) {
      ctx.error(ApiError.input('file', 'Choose a CSV file to upload.'));
      return;
    }
    ctx.loading();
    const text = await f.text();
    const rows = text.split(/\r?\n/).filter((l) => l.trim()).length - 1;
    if (rows > MAX_ROWS) {
      ctx.error(ApiError.input('file', `The file has ${rows} rows; at most ${MAX_ROWS} can be imported at once.`));
      ctx.done();
      return;
    }
    submit.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    status.textContent = `Uploading ${f.name}…`;
    try {
      const res = await api.upload(`${apiPath('accounts', account)}:importNumbers`, text, {
        contentType: 'text/csv',
        onProgress: (loaded, total) => {
          if (total) progress.value = Math.round((loaded / total) * 100);
        },
        onSent: () => {
          progress.value = 100;
          status.textContent = 'Processing…';
        },
      });
      progress.value = 100;
      status.textContent = 'Done.';
      result.replaceChildren(...summary(account, res).filter(Boolean));
      ctx.ok(typeof res?.imported === 'number' ? `Imported ${plural(res.imported, 'number')} into ${account}.` : `Imported ${f.name}.`);
    } catch (err) {
      status.textContent = 'Failed.';
      if (err.status === 400) {
        result.replaceChildren(...problems(err));
        ctx.error(err, { withDetails: false });
      } else {
        ctx.error(err);
      }
    } finally {
      submit.disabled = false;
      ctx.done();
    }
  });

  ctx.add(
    h(
      'nav',
      { class: 'crumbs' },
      h('a', { href: '#/accounts' }, 'Accounts'),
      ' › ',
      h('a', { href: href(['accounts', account, 'numbers']) }, account),
      ' › Upload numbers',
    ),
    h('h1', { testid: 'page-title' }, `Create numbers for ${account}: file upload`),
    form,
    result,
  );
  ctx.done();
}
