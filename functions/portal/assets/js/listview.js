// A list page's table: filter box (the API's `filter`), paging by `nextLink` with a stack of
// previous links for Prev, page size (`maxpagesize`), refresh, and optional row selection.

import { api } from './api.js';
import { h, options } from './dom.js';
import { chipLabel, compose, OPERATORS, operatorsFor, splitFilter } from './filters.js';
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
 * Puts the list's search and filter in the page's URL (`#/path?search=…&filter=…`), as a new
 * history entry: Back returns to the previous ones, and a reload or a shared link keeps them
 * (pages read them back as `ctx.query`). No hashchange fires for it, so the page is not drawn
 * again.
 */
function keepInUrl(values) {
  const hash = location.hash || '#/';
  const i = hash.indexOf('?');
  const path = i < 0 ? hash : hash.slice(0, i);
  const params = new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
  for (const [k, v] of Object.entries(values)) {
    if (v) params.set(k, v);
    else params.delete(k);
  }
  const q = params.toString();
  const next = q ? `${path}?${q}` : path;
  if (next !== hash) {
    history.pushState(null, '', next);
    addressChanged();
  }
}

/**
 * A searchable, filterable, paged list bound to a page context. Options: name, path, columns,
 * key, query (fixed parameters), search (placeholder text; none: no search box), filter (bool),
 * fields (the point-and-click filters: [{field, label, type: 'text'|'enum'|'bool', values}]),
 * filterPlaceholder, filterHelp, pageSize, selectable (bool), onRowClick, onSelection(keys),
 * onLoaded(rows), noun ('number'), nouns (its plural), empty. The search and filter start from
 * the page's URL.
 */
export function listView(ctx, opts) {
  const fields = opts.fields || [];
  const initial = splitFilter(ctx.query.filter || '', fields);
  const state = {
    search: ctx.query.search || '',
    chips: initial.chips,
    raw: initial.raw,
    pageSize: Number(opts.pageSize) || 50,
    // Paging: `link` is the page shown (null: the first request, from `skip`), `stack` the
    // links Prev returns to, and `base` the pages before the first request (a page jump).
    link: null,
    nextLink: null,
    stack: [],
    base: 0,
    total: null,
    rows: [],
    selected: new Set(),
  };
  const noun = opts.noun || 'item';
  const nouns = opts.nouns || `${noun}s`;
  const filterText = () => compose(state.chips, state.raw);

  const searchInput = h('input', {
    type: 'search',
    testid: 'search-input',
    class: 'search-input',
    placeholder: opts.search,
    value: state.search,
    onkeydown: (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        applySearch();
      }
    },
  });
  const searchBar = opts.search
    ? h(
        'form',
        {
          class: 'searchbar',
          role: 'search',
          onsubmit: (e) => {
            e.preventDefault();
            applySearch();
          },
        },
        h('label', { class: 'search-label' }, 'Search ', searchInput),
        h('button', { type: 'submit', testid: 'search-apply' }, 'Search'),
      )
    : null;

  const chipList = h('ul', { class: 'chips', testid: 'filter-chips', 'aria-label': 'Filters' });
  const chipForm = fields.length ? chipBuilder(fields, (chip) => changeFilter({ chips: [...state.chips, chip] })) : null;

  const filterInput = h('input', {
    type: 'search',
    testid: 'filter-input',
    class: 'filter-input',
    placeholder: opts.filterPlaceholder || "e.g. startswith(name,'con')",
    value: state.raw,
    'aria-label': 'OData filter',
    onkeydown: (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        applyRaw();
      }
    },
  });
  const advanced = h(
    'details',
    { class: 'advanced', testid: 'filter-advanced', open: state.raw ? true : null },
    h('summary', null, 'OData filter'),
    h(
      'div',
      { class: 'filterbar' },
      filterInput,
      h('button', { type: 'button', testid: 'filter-apply', onclick: applyRaw }, 'Apply'),
      h(
        'button',
        {
          type: 'button',
          testid: 'filter-clear',
          onclick: () => {
            filterInput.value = '';
            applyRaw();
          },
        },
        'Clear',
      ),
    ),
    opts.filterHelp ? h('details', { class: 'filter-help' }, h('summary', null, 'Filter syntax'), opts.filterHelp) : null,
  );
  const filterBar = opts.filter === false ? searchBar : h('div', { class: 'filters' }, searchBar, h('div', { class: 'chipbar' }, chipList, chipForm), advanced);

  function drawChips() {
    chipList.replaceChildren(
      ...state.chips.map((chip, i) => {
        const label = chipLabel(chip, fields);
        return h(
          'li',
          { class: 'chip', testid: 'filter-chip' },
          h('span', null, label),
          h(
            'button',
            {
              type: 'button',
              class: 'chip-remove',
              testid: 'filter-chip-remove',
              'aria-label': `Remove filter: ${label}`,
              onclick: () => {
                changeFilter({ chips: state.chips.filter((_, j) => j !== i) });
                // The focus stays in the chips: on the next one's remove button, else "+ Add filter".
                const removes = chipList.querySelectorAll('[data-testid=filter-chip-remove]');
                (removes[i] ?? removes[i - 1] ?? chipForm?.querySelector('[data-testid=filter-add]'))?.focus();
              },
            },
            '×',
          ),
        );
      }),
    );
  }
  drawChips();

  const prev = h(
    'button',
    {
      type: 'button',
      testid: 'page-prev',
      onclick: () => {
        if (!state.stack.length) return jump(state.base);
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
  const jumps = h('nav', { class: 'page-jumps', 'aria-label': 'Pages' });
  const pager = h('div', { class: 'pager' }, prev, next, jumps, info, h('label', { class: 'pagesize' }, 'Per page ', sizeSelect));
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
    state.base = 0;
    state.total = null;
  }

  /** Straight to page `n` (from 1): the first request again, passing over the pages before. */
  function jump(n) {
    state.link = null;
    state.stack = [];
    state.base = n - 1;
    state.focusPage = true;
    userLoad();
  }

  /** A new search, chips or OData text: kept in the URL, and the list from its first page. */
  function changeFilter(change) {
    Object.assign(state, change);
    drawChips();
    keepInUrl({ search: state.search, filter: filterText() });
    resetPaging();
    userLoad();
  }

  function applySearch() {
    changeFilter({ search: searchInput.value.trim() });
  }

  /** The OData box: what it holds becomes chips where it can. */
  function applyRaw() {
    const { chips, raw } = splitFilter(filterInput.value, fields);
    filterInput.value = raw;
    changeFilter({ chips: [...state.chips, ...chips], raw });
  }

  /** A load the user asked for: the previous message no longer applies. */
  function userLoad() {
    ctx.clearFlash();
    return load();
  }

  /** Page-number buttons when the total is known: the first, the last, and those around `page`. */
  function drawJumps(page) {
    const pages = state.total != null ? Math.ceil(state.total / state.pageSize) : 0;
    const wanted = [...new Set([1, page - 2, page - 1, page, page + 1, page + 2, pages])].filter((n) => n >= 1 && n <= pages);
    const items = [];
    wanted.forEach((n, i) => {
      if (i > 0 && n > wanted[i - 1] + 1) items.push(h('span', { class: 'gap', 'aria-hidden': 'true' }, '…'));
      items.push(
        h(
          'button',
          { type: 'button', testid: `page-jump-${n}`, 'aria-current': n === page ? 'page' : null, 'aria-label': `Page ${n}`, onclick: () => jump(n) },
          String(n),
        ),
      );
    });
    jumps.replaceChildren(...(pages > 1 ? items : []));
    // After a jump the focus goes to the page's own button (the one clicked may be gone).
    if (state.focusPage) {
      state.focusPage = false;
      jumps.querySelector('[aria-current=page]')?.focus();
    }
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
        empty: state.search || filterText() ? `No ${nouns} match.` : opts.empty || `No ${nouns} yet.`,
      }),
    );
    const page = state.base + state.stack.length + 1;
    prev.disabled = page === 1;
    next.disabled = !state.nextLink;
    drawJumps(page);
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
      // No count with a search: it would read the whole listing (the API refuses past 100,000).
      const query = { ...(opts.query || {}), maxpagesize: state.pageSize, countRecords: opts.count === false || state.search ? undefined : true };
      if (filterText()) query.filter = filterText();
      if (state.search) query.search = state.search;
      if (state.base) query.skip = state.base * state.pageSize;
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
    /** The search and filter the list shows (as applied, not as being typed), as API parameters. */
    shown: () => ({ search: state.search || undefined, filter: filterText() || undefined }),
  };
}

/**
 * "Add filter": field → operator → value, then a chip. `onAdd(chip)` receives it.
 */
function chipBuilder(fields, onAdd) {
  const fieldSelect = h('select', { testid: 'chip-field', 'aria-label': 'Field' }, options(fields.map((f) => ({ value: f.field, label: f.label }))));
  const opSelect = h('select', { testid: 'chip-op', 'aria-label': 'Operator' });
  const valueHolder = h('span');
  let valueControl;
  const spec = () => fields.find((f) => f.field === fieldSelect.value) ?? fields[0];
  function fieldChanged() {
    const f = spec();
    opSelect.replaceChildren(...options(operatorsFor(f.type).map((op) => ({ value: op, label: OPERATORS[op] }))));
    valueControl =
      f.type === 'text'
        ? h('input', { type: 'text', testid: 'chip-value', 'aria-label': 'Value', placeholder: f.placeholder || '' })
        : h(
            'select',
            { testid: 'chip-value', 'aria-label': 'Value' },
            options(
              f.type === 'bool'
                ? [
                    { value: 'true', label: 'yes' },
                    { value: 'false', label: 'no' },
                  ]
                : f.values.map((v) => ({ value: v })),
            ),
          );
    valueHolder.replaceChildren(valueControl);
  }
  fieldSelect.addEventListener('change', fieldChanged);
  fieldChanged();
  const form = h(
    'form',
    {
      class: 'chip-form',
      testid: 'chip-form',
      hidden: true,
      onsubmit: (e) => {
        e.preventDefault();
        const f = spec();
        const raw = valueControl.value.trim();
        if (!raw) return valueControl.focus();
        onAdd({ field: f.field, op: opSelect.value, value: f.type === 'bool' ? raw === 'true' : raw, type: f.type });
        form.hidden = true;
        toggle.hidden = false;
        toggle.focus();
      },
    },
    fieldSelect,
    opSelect,
    valueHolder,
    h('button', { type: 'submit', testid: 'chip-add' }, 'Add'),
    h(
      'button',
      {
        type: 'button',
        onclick: () => {
          form.hidden = true;
          toggle.hidden = false;
          toggle.focus();
        },
      },
      'Cancel',
    ),
  );
  const toggle = h(
    'button',
    {
      type: 'button',
      testid: 'filter-add',
      onclick: () => {
        form.hidden = false;
        toggle.hidden = true;
        fieldSelect.focus();
      },
    },
    '+ Add filter',
  );
  return h('span', { class: 'chip-builder' }, toggle, form);
}
