// Hash routing: `#/path/with/:params?query`. Each navigation gets a fresh page container and a
// context whose `done()` sets `body[data-ready]` only while it is still the current page.

import { append, clearReady, confirmDialog, flash, h, setReady } from './dom.js';

let routes = [];
let hooks = {};
let seq = 0;
let pending = null;
/** The hash of the page drawn, and its check for unsaved changes (`ctx.confirmLeave`). */
let shownHash = null;
let unsaved = null;

/** `#/a/b` from raw segments (each percent-encoded), plus an optional query object. */
export function href(segments, query) {
  const path = '#/' + segments.map((s) => encodeURIComponent(s)).join('/');
  const q = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v != null && v !== '')).toString() : '';
  return q ? `${path}?${q}` : path;
}

/** Navigates to `hash`; `message` ({ok} or {error}) is shown on the page it lands on. */
export function go(hash, message) {
  // The page itself moves on (after a save, say): nothing is left unsaved.
  unsaved = null;
  pending = message || null;
  if (location.hash === hash) navigate();
  else location.hash = hash;
}

/** The page changed its own address (`history.pushState`): staying on it after a "Leave this
 * page?" puts that address back. */
export function addressChanged() {
  shownHash = currentHash();
}

export function currentHash() {
  return location.hash || '#/';
}

function parse(hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const i = raw.indexOf('?');
  const path = i < 0 ? raw : raw.slice(0, i);
  const query = Object.fromEntries(new URLSearchParams(i < 0 ? '' : raw.slice(i + 1)));
  return { path, query };
}

function match(path) {
  const parts = path.split('/').filter(Boolean);
  for (const r of routes) {
    const pat = r.pattern.split('/').filter(Boolean);
    if (pat.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < pat.length && ok; i++) {
      let seg;
      try {
        seg = decodeURIComponent(parts[i]);
      } catch {
        seg = parts[i];
      }
      if (pat[i].startsWith(':')) params[pat[i].slice(1)] = seg;
      else ok = pat[i] === seg;
    }
    if (ok) return { route: r, params };
  }
  return null;
}

async function navigate() {
  clearReady();
  const id = ++seq;
  shownHash = currentHash();
  unsaved = null;
  const message = pending;
  pending = null;
  flash.clear();
  if (message?.ok) flash.ok(message.ok);
  if (message?.error) flash.error(message.error);

  const { path, query } = parse(currentHash());
  const found = match(path);
  if (!found) {
    const home = hooks.home || '#/';
    if (path === '/' || path === '') {
      history.replaceState(null, '', home);
      navigate();
      return;
    }
  }
  const redirect = hooks.guard?.(found?.route, path);
  if (redirect) {
    pending = message;
    history.replaceState(null, '', redirect);
    navigate();
    return;
  }
  const root = h('section', { class: 'page' });
  document.getElementById('page').replaceChildren(root);
  hooks.afterRoute?.(found?.route);
  const route = found ? (hooks.wrap?.(found.route) ?? found.route) : hooks.notFound;
  document.title = route.title ? `${route.title} · Switchboard` : 'Switchboard · Number Management Portal';
  const ctx = {
    root,
    params: found?.params || {},
    query,
    route,
    isCurrent: () => id === seq,
    /** Appends to the page (nodes, strings, arrays; null and false are skipped). */
    add: (...children) => append(root, children),
    /** Data is being (re)loaded: the page is not ready. */
    loading() {
      if (id === seq) clearReady();
    },
    /** The page has finished loading its data. */
    done(name = route.ready) {
      if (id === seq) setReady(name);
    },
    /** `isDirty()` says whether the page holds changes not saved: leaving then asks first. */
    confirmLeave(isDirty) {
      if (id === seq) unsaved = isDirty;
    },
    /** A user action starts: the previous message no longer applies. */
    clearFlash() {
      if (id === seq) flash.clear();
    },
    ok(msg) {
      if (id === seq) flash.ok(msg);
    },
    error(err, opts) {
      if (id === seq) flash.error(err, opts);
    },
  };
  try {
    await route.render(ctx);
  } catch (err) {
    if (id === seq) {
      flash.error(err);
      if (!root.querySelector('h1')) root.prepend(h('h1', { testid: 'page-title' }, route.title || 'Error'));
      ctx.done();
    }
  }
}

/**
 * Starts routing. `table`: [{pattern, render(ctx), ready, title, section, needs}]. `options`:
 * home (hash), guard(route, path) → hash to redirect to, afterRoute(route), notFound (a route),
 * wrap(route) → the route to render instead (e.g. a notice when the roles don't allow it).
 */
export function startRouter(table, options) {
  routes = table;
  hooks = options;
  window.addEventListener('hashchange', async () => {
    if (unsaved?.()) {
      const leave = await confirmDialog({ title: 'Leave this page?', message: 'Your changes have not been saved.', okLabel: 'Leave', danger: true });
      if (!leave) {
        // Stay: put the address back without drawing the page again.
        history.replaceState(null, '', shownHash);
        return;
      }
    }
    navigate();
  });
  // Closing or reloading the tab: the browser's own question.
  window.addEventListener('beforeunload', (e) => {
    if (unsaved?.()) e.preventDefault();
  });
  navigate();
}
