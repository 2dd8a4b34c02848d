// A list page's table: filter box (the API's `filter`), paging by `nextLink` with a stack of
// previous links for Prev, page size (`maxpagesize`), refresh, and optional row selection.

import { api } from './api.js';
import { h, options } from './dom.js';
import { plural } from './format.js';
import { addressChanged } from './router.js';

const PAGE_SIZES = [10, 25, 50, 100, 200, 500];

/**
 * Builds a `<table data-testid="<name>-table">`. `columns`: [{field, label, render(row) → node|string}].
 * Body rows are `<tr data-testid="row" data-key="<key(row)>">`, cells `<td data-testid="cell-<field>">`.
 */
export function dataTable(name, columns, rows, { key, onRowClick, selectable = null, empty = 'Nothing to show.' } = {}) {
  const head = h(
    'tr',
    null,
    selectable ? h('th', { class: 'select' }, selectable.headerCheckbox) : null,
    columns.map((c) => h('th', { scope: 'col' }, c.label)),
  );
  const body = rows.length
    ? rows.map((row) => {
        const k = key(row);
        const tr = h(
          'tr',
          { testid: 'row', 'data-key': k, class: onRowClick ? 'clickable' : null },
          selectable ? h('td', { class: 'select' }, selectable.checkbox(k, row)) : null,
          // `data-label`: a narrow screen shows each row as a card, each cell under its heading.
          columns.map((c) => h('td', { testid: `cell-${c.field}`, class: c.class, 'data-label': c.label }, c.render ? c.render(row) : (row[c.field] ?? ''))),
        );
        if (onRowClick) {
          tr.addEventListener('click', (e) => {
            if (e.target.closest('a, button, input, select, label, textarea')) return;
            onRowClick(row, tr);
          });
          // Rows open from the keyboard too: Tab to a row, then Enter.
          tr.tabIndex = 0;
          tr.addEventListener('keydown', (e) => {
            if (e.key !== 'Enter' || e.target !== tr) return;
            e.preventDefault();
            onRowClick(row, tr);
          });
        }
        return tr;
      })
    : h('tr', { class: 'empty' }, h('td', { colspan: columns.length + (selectable ? 1 : 0) }, empty));
  return h('table', { class: 'grid', testid: `${name}-table` }, h('thead', null, head), h('tbody', null, body));
}

/**
 * Puts the list's filter in the page's URL (`#/path?filter=…`), as a new history entry: Back
 * returns to the previous filter, and a reload or a shared link keeps it (pages read it back as
 * `ctx.query.filter`). No hashchange fires for it, so the page is not drawn again.
 */
function keepFilterInUrl(filter) {
  const hash = location.hash || '#/';
  const i = hash.indexOf('?');
  const path = i < 0 ? hash : hash.slice(0, i);
  const params = new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
  if (filter) params.set('filter', filter);
  else params.delete('filter');
  const q = params.toString();
  const next = q ? `${path}?${q}` : path;
  if (next !== hash) {
    history.pushState(null, '', next);
    addressChanged();
  }
}

/**
 * A filterable, paged list bound to a page context. Options: name, path, columns, key,
 * query (fixed parameters), filter (bool), filterPlaceholder, filterHelp, pageSize, initialFilter, selectable (bool),
 * onRowClick, onSelection(keys), onLoaded(rows), noun ('number'), nouns (its plural), empty.
 */
export function listView(ctx, opts) {
  const state = {
    filter: opts.initialFilter || '',
    pageSize: Number(opts.pageSize) || 50,
    link: null,
    nextLink: null,
    stack: [],
    total: null,
    rows: [],
    selected: new Set(),
  };
  const noun = opts.noun || 'item';
  const nouns = opts.nouns || `${noun}s`;

  const filterInput = h('input', {
    type: 'search',
    testid: 'filter-input',
    class: 'filter-input',
    placeholder: opts.filterPlaceholder || "e.g. startswith(name,'con')",
    value: state.filter,
    'aria-label': 'Filter',
    onkeydown: (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        applyFilter();
      }
    },
  });
  const filterBar =
    opts.filter === false
      ? null
      : h(
          'div',
          { class: 'filterbar' },
          h('label', { class: 'filter-label' }, 'Add filter ', filterInput),
          h('button', { type: 'button', testid: 'filter-apply', onclick: applyFilter }, 'Apply'),
          h(
            'button',
            {
              type: 'button',
              testid: 'filter-clear',
              onclick: () => {
                filterInput.value = '';
                applyFilter();
              },
            },
            'Clear',
          ),
          opts.filterHelp ? h('details', { class: 'filter-help' }, h('summary', null, 'Filter syntax'), opts.filterHelp) : null,
        );

  const prev = h(
    'button',
    {
      type: 'button',
      testid: 'page-prev',
      onclick: () => {
        state.link = state.stack.pop() ?? null;
        userLoad();
      },
    },
    '‹ Prev',
  );
  const next = h(
    'button',
    {
      type: 'button',
      testid: 'page-next',
      onclick: () => {
        state.stack.push(state.link);
        state.link = state.nextLink;
        userLoad();
      },
    },
    'Next ›',
  );
  const sizeSelect = h(
    'select',
    {
      testid: 'page-size',
      'aria-label': 'Page size',
      onchange: () => {
        state.pageSize = Number(sizeSelect.value);
        resetPaging();
        userLoad();
      },
    },
    options(
      [...new Set([...PAGE_SIZES, state.pageSize])].sort((a, b) => a - b).map((v) => ({ value: String(v) })),
      String(state.pageSize),
    ),
  );
  const info = h('span', { class: 'pageinfo', testid: 'page-info' });
  const pager = h('div', { class: 'pager' }, prev, next, info, h('label', { class: 'pagesize' }, 'Per page ', sizeSelect));
  const tableHolder = h('div', { class: 'table-holder' });
  const el = h('div', { class: 'listview' }, filterBar, tableHolder, pager);

  const selectAll = h('input', {
    type: 'checkbox',
    testid: 'row-select-all',
    'aria-label': 'Select all on this page',
    onchange: () => {
      state.selected = selectAll.checked ? new Set(state.rows.map(opts.key)) : new Set();
      for (const cb of tableHolder.querySelectorAll('input[data-testid="row-select"]')) cb.checked = selectAll.checked;
      selectionChanged();
    },
  });

  function selectionChanged() {
    const n = state.selected.size;
    selectAll.checked = n > 0 && n === state.rows.length;
    selectAll.indeterminate = n > 0 && n < state.rows.length;
    opts.onSelection?.([...state.selected]);
  }

  function resetPaging() {
    state.link = null;
    state.stack = [];
    state.total = null;
  }

  function applyFilter() {
    state.filter = filterInput.value.trim();
    keepFilterInUrl(state.filter);
    resetPaging();
    userLoad();
  }

  /** A load the user asked for: the previous message no longer applies. */
  function userLoad() {
    ctx.clearFlash();
    return load();
  }

  function render() {
    const selectable = opts.selectable
      ? {
          headerCheckbox: selectAll,
          checkbox: (k) =>
            h('input', {
              type: 'checkbox',
              testid: 'row-select',
              value: k,
              'aria-label': `Select ${k}`,
              checked: state.selected.has(k),
              onchange: (e) => {
                if (e.target.checked) state.selected.add(k);
                else state.selected.delete(k);
                selectionChanged();
              },
            }),
        }
      : null;
    tableHolder.replaceChildren(
      dataTable(opts.name, opts.columns, state.rows, {
        key: opts.key,
        onRowClick: opts.onRowClick,
        selectable,
        empty: state.filter ? `No ${nouns} match the filter.` : opts.empty || `No ${nouns} yet.`,
      }),
    );
    prev.disabled = state.stack.length === 0;
    next.disabled = !state.nextLink;
    const page = state.stack.length + 1;
    const from = (page - 1) * state.pageSize + (state.rows.length ? 1 : 0);
    const to = (page - 1) * state.pageSize + state.rows.length;
    info.textContent =
      state.total != null ? `${from}–${to} of ${plural(state.total, noun, nouns)} · page ${page}` : `${plural(state.rows.length, noun, nouns)} · page ${page}`;
  }

  /** Loads the current page. The page is not ready until it has. */
  async function load() {
    ctx.loading();
    for (const b of [prev, next]) b.disabled = true;
    // Visible work: the list says it is loading (and is marked busy for screen readers).
    el.setAttribute('aria-busy', 'true');
    if (!tableHolder.firstChild) tableHolder.append(h('p', { class: 'loading', testid: 'loading' }, `Loading ${nouns}…`));
    try {
      const query = { ...(opts.query || {}), maxpagesize: state.pageSize, countRecords: opts.count === false ? undefined : true };
      if (state.filter) query.filter = state.filter;
      const page = await api.list(opts.path, state.link ? { link: state.link } : { query });
      state.rows = page.value;
      state.nextLink = page.nextLink;
      if (page.count != null) state.total = page.count;
      state.selected = new Set();
      render();
      selectionChanged();
      opts.onLoaded?.(state.rows);
    } catch (err) {
      state.rows = [];
      state.nextLink = null;
      render();
      ctx.error(err);
    } finally {
      el.removeAttribute('aria-busy');
      ctx.done();
    }
  }

  return {
    el,
    load,
    /** Back to the first page (after a change) and reload. */
    refresh() {
      resetPaging();
      return load();
    },
    /** A `refresh` button that reloads the current page. */
    refreshButton: () => h('button', { type: 'button', testid: 'refresh', onclick: userLoad }, 'Refresh'),
    rows: () => state.rows,
    selected: () => [...state.selected],
    /** The filter the list shows (as applied, not as being typed). */
    filter: () => state.filter,
  };
}
