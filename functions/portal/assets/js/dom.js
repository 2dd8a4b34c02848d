// Small DOM helpers: element builder, the flash area, the page-ready marker, the confirm dialog.

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'multiple', 'required', 'readOnly', 'indeterminate']);

/** Creates an element. `props`: `class`, `testid`, `on<event>` handlers, DOM properties, attributes. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    else if (k === 'testid') el.dataset.testid = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/** Appends children: nodes, strings, numbers and (nested) arrays; null/false/undefined are skipped. */
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** `<option>`s from `[{value, label}]`. */
export function options(items, selected) {
  return items.map((o) => h('option', { value: o.value, selected: o.value === selected }, o.label ?? o.value));
}

/**
 * Marks a form control as wrong (`aria-invalid`) with `message` beside it, read out with it
 * (`aria-describedby`), until its value changes. `null` clears it.
 */
export function fieldError(control, message) {
  const id = `${idOf(control)}-error`;
  document.getElementById(id)?.remove();
  const described = (control.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== id);
  if (!message) {
    control.removeAttribute('aria-invalid');
    if (described.length) control.setAttribute('aria-describedby', described.join(' '));
    else control.removeAttribute('aria-describedby');
    return;
  }
  control.setAttribute('aria-invalid', 'true');
  control.setAttribute('aria-describedby', [...described, id].join(' '));
  // Not a live region of its own: the flash already announces the error.
  control.after(h('div', { class: 'field-error', id, testid: 'field-error' }, sentence(message)));
  const clear = () => {
    fieldError(control, null);
    control.removeEventListener('input', clear);
    control.removeEventListener('change', clear);
  };
  control.addEventListener('input', clear);
  control.addEventListener('change', clear);
}

/** What a form holds now, to compare with later (its controls' names or ids and values). */
export function formState(form) {
  return JSON.stringify([...form.elements].filter((e) => e.name || e.id).map((e) => [e.name || e.id, e.type === 'checkbox' ? e.checked : e.value]));
}

/** A control's id, given one if it has none (labels and error messages point at it). */
function idOf(control) {
  if (!control.id) control.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  return control.id;
}

/** A labelled form row. */
export function field(label, control, hint) {
  return h('div', { class: 'field' }, h('label', { for: idOf(control) }, label), control, hint ? h('div', { class: 'hint' }, hint) : null);
}

// ---- page-ready marker (the browser tests wait for it) ----

export function setReady(name) {
  document.body.dataset.ready = name;
}

export function clearReady() {
  delete document.body.dataset.ready;
}

// ---- flash messages: one element, class `ok` or `error` ----

function flashEl() {
  return document.getElementById('flash');
}

/** Upper-cases the first letter: the API's messages start lower-case, to read inside others. */
function sentence(text) {
  const t = String(text || '').trim();
  return t ? t[0].toUpperCase() + t.slice(1) : t;
}

/**
 * The lines an error shows, for people: its message, then its details (each with the field or
 * line it is about). The API's code, status and request id go in a small line under them, for
 * support, not at the start of the message.
 */
export function describeError(err) {
  if (!err) return { head: 'Something went wrong.', details: [], meta: [] };
  const head = sentence(err.message || 'The request failed.');
  const details = (err.details || []).map((d) => `${d.target ? `${d.target}: ` : ''}${d.message}`);
  // With no details to name it, the field it is about is named on its own line.
  if (!details.length && err.target) details.push(`About: ${err.target}`);
  const meta = [err.code, err.status ? `HTTP ${err.status}` : null, err.requestId ? `request id ${err.requestId}` : null];
  return { head, details, meta: meta.filter(Boolean) };
}

function showFlash(kind, body) {
  const el = flashEl();
  if (!el) return;
  el.className = kind;
  el.hidden = false;
  el.replaceChildren(
    h('button', { type: 'button', class: 'flash-close', 'aria-label': 'Dismiss', title: 'Dismiss', onclick: flash.clear }),
    ...body.filter(Boolean),
  );
}

export const flash = {
  clear() {
    const el = flashEl();
    if (!el) return;
    el.hidden = true;
    el.className = '';
    el.replaceChildren();
  },
  ok(message) {
    showFlash('ok', [h('div', { class: 'flash-head' }, message)]);
  },
  /** Shows an API error (code, message, target, details) or any Error. `withDetails: false` omits the list. */
  error(err, { withDetails = true } = {}) {
    const d = describeError(err);
    showFlash('error', [
      h('div', { class: 'flash-head' }, d.head),
      withDetails && d.details.length
        ? h(
            'ul',
            { class: 'flash-details' },
            d.details.map((t) => h('li', null, t)),
          )
        : null,
      d.meta.length ? h('div', { class: 'flash-meta' }, d.meta.join(' · ')) : null,
    ]);
  },
};

// ---- confirmation dialog ----

/**
 * Asks a yes/no question in a modal dialog; resolves true for OK. The focus starts on Cancel, so
 * that Enter does no harm. With `typeToConfirm`, OK is enabled only once that text is typed (the
 * focus then starts in the box).
 */
export function confirmDialog({ title, message, okLabel = 'Delete', danger = true, extra = null, typeToConfirm = null }) {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (ok) => {
      if (!settled) {
        settled = true;
        resolve(ok);
      }
    };
    const ok = h('button', { type: 'button', class: danger ? 'danger' : 'primary', testid: 'confirm-ok', onclick: () => close(true) }, okLabel);
    const cancel = h('button', { type: 'button', testid: 'confirm-cancel', onclick: () => close(false) }, 'Cancel');
    let typed = null;
    if (typeToConfirm) {
      ok.disabled = true;
      typed = h('input', {
        type: 'text',
        testid: 'confirm-type',
        autocomplete: 'off',
        spellcheck: 'false',
        oninput: () => {
          ok.disabled = typed.value.trim() !== typeToConfirm;
        },
      });
    }
    const dlg = h(
      'dialog',
      { class: 'confirm', testid: 'confirm-dialog', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-message' },
      h('h2', { id: 'confirm-title' }, title),
      h('p', { class: 'confirm-message', id: 'confirm-message' }, message),
      extra,
      typed ? field(`Type ${typeToConfirm} to confirm`, typed) : null,
      h('div', { class: 'actions' }, ok, cancel),
    );
    function close(ok) {
      settle(ok);
      dlg.close();
      dlg.remove();
    }
    dlg.addEventListener('close', () => {
      dlg.remove();
      settle(false);
    });
    document.body.append(dlg);
    if (typeof dlg.showModal === 'function') dlg.showModal();
    else dlg.setAttribute('open', '');
    // Enter must do no harm: the focus starts on Cancel, or on the box to type into.
    (typed || cancel).focus();
  });
}

/** Saves a Blob as a download. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
