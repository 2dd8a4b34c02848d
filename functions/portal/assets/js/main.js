// Start-up: read config.json, finish an OIDC sign-in if one is coming back, draw the chrome
// (navigation, roles, sign out) and route.

import { configureApi, deriveApiBase, portalJson } from './api.js';
import * as auth from './auth.js';
import { flash, h, setReady } from './dom.js';
import * as accountForm from './pages/account-form.js';
import * as accounts from './pages/accounts.js';
import * as allNumbers from './pages/all-numbers.js';
import * as civic from './pages/civic.js';
import * as history from './pages/history.js';
import * as numberForm from './pages/number-form.js';
import * as numberUpload from './pages/number-upload.js';
import * as numbers from './pages/numbers.js';
import * as rfi from './pages/rfi.js';
import * as rfis from './pages/rfis.js';
import { rememberReturn, signinPage } from './pages/signin.js';
import * as sync from './pages/sync.js';
import { currentHash, go, href, startRouter } from './router.js';

const HOME = '#/accounts';

const NAV = [
  { section: 'rfis', href: '#/rfis', label: 'Requests for Information', testid: 'nav-rfis' },
  { section: 'accounts', href: '#/accounts', label: 'Accounts', testid: 'nav-accounts' },
  { section: 'numbers', href: '#/numbers', label: 'Numbers', testid: 'nav-numbers' },
  { section: 'sync', href: '#/sync', label: 'Sync', testid: 'nav-sync' },
];

function signedIn(hash) {
  renderChrome();
  go(hash || HOME);
}

/** Literal routes come before the `:param` routes they could be mistaken for. */
const ROUTES = [
  { pattern: '/signin', render: signinPage(signedIn), ready: 'signin', title: 'Sign in', public: true },
  { pattern: '/rfis', render: rfis.render, ready: 'rfis', title: 'Requests for Information', section: 'rfis', needs: 'read' },
  { pattern: '/rfis/:tenantId', render: rfi.render, ready: 'rfi', title: 'Request for Information', section: 'rfis', needs: 'read' },
  { pattern: '/accounts', render: accounts.render, ready: 'accounts', title: 'Accounts', section: 'accounts', needs: 'read' },
  { pattern: '/accounts/new', render: accountForm.render, ready: 'account-form', title: 'Create account', section: 'accounts', needs: 'write' },
  {
    pattern: '/accounts/:name',
    render: (ctx) => location.replace(href(['accounts', ctx.params.name, 'numbers'])),
    ready: 'numbers',
    section: 'accounts',
    needs: 'read',
  },
  { pattern: '/accounts/:name/manage', render: accountForm.render, ready: 'account-form', title: 'Manage account', section: 'accounts', needs: 'write' },
  { pattern: '/accounts/:name/numbers', render: numbers.render, ready: 'numbers', title: 'Numbers', section: 'accounts', needs: 'read' },
  {
    pattern: '/accounts/:name/numbers/new',
    render: numberForm.renderCreate,
    ready: 'number-create',
    title: 'Create numbers',
    section: 'accounts',
    needs: 'write',
  },
  {
    pattern: '/accounts/:name/numbers/upload',
    render: numberUpload.render,
    ready: 'number-upload',
    title: 'Upload numbers',
    section: 'accounts',
    needs: 'write',
  },
  { pattern: '/accounts/:name/history', render: history.renderAccount, ready: 'history', title: 'History', section: 'accounts', needs: 'read' },
  { pattern: '/accounts/:name/numbers/:tn/history', render: history.renderNumber, ready: 'history', title: 'History', section: 'accounts', needs: 'read' },
  {
    pattern: '/accounts/:name/numbers/:tn',
    render: numberForm.renderManage,
    ready: 'number-manage',
    title: 'Manage number',
    section: 'accounts',
    needs: 'write',
  },
  { pattern: '/accounts/:name/civic', render: civic.renderList, ready: 'civic', title: 'Civic addresses', section: 'accounts', needs: 'read' },
  { pattern: '/accounts/:name/civic/:id', render: civic.renderDetail, ready: 'civic-detail', title: 'Civic address', section: 'accounts', needs: 'read' },
  { pattern: '/numbers', render: allNumbers.render, ready: 'all-numbers', title: 'All numbers', section: 'numbers', needs: 'read' },
  { pattern: '/sync', render: sync.render, ready: 'sync', title: 'Sync', section: 'sync', needs: 'read' },
];

const NOT_FOUND = {
  ready: 'not-found',
  title: 'Not found',
  render(ctx) {
    ctx.add(h('h1', { testid: 'page-title' }, 'Page not found'), h('p', null, 'There is no such page. ', h('a', { href: HOME }, 'Go to Accounts'), '.'));
    ctx.done();
  },
};

/** A page the signed-in roles don't allow. */
function forbidden(route) {
  return {
    ...route,
    render(ctx) {
      const roles = auth.roles();
      ctx.add(
        h('h1', { testid: 'page-title' }, route.title),
        h(
          'p',
          { class: 'notice', testid: 'forbidden' },
          `Your roles (${roles.join(', ') || 'none'}) don’t grant ${route.needs} access, which this page needs.`,
        ),
      );
      ctx.done();
    },
  };
}

/** The header's user area and the left navigation: only when signed in. */
function renderChrome(section) {
  const user = document.getElementById('user');
  const nav = document.getElementById('nav');
  const inside = auth.signedIn();
  document.body.classList.toggle('signed-out', !inside);
  if (!inside) {
    user.replaceChildren();
    nav.replaceChildren();
    return;
  }
  const roles = auth.roles();
  user.replaceChildren(
    h('span', { class: 'subject', testid: 'user-subject' }, auth.subject()),
    h('span', { class: 'roles', testid: 'user-roles', title: 'Your roles' }, roles.join(', ') || 'no roles'),
    h('button', { type: 'button', class: 'signout', testid: 'signout', onclick: signOut }, 'Sign out'),
  );
  nav.replaceChildren(
    h('div', { class: 'nav-heading' }, 'Number Management'),
    h(
      'ul',
      null,
      NAV.map((n) =>
        h(
          'li',
          null,
          h(
            'a',
            { href: n.href, testid: n.testid, class: n.section === section ? 'active' : null, 'aria-current': n.section === section ? 'page' : null },
            n.label,
          ),
        ),
      ),
    ),
  );
}

function signOut() {
  auth.signOut();
  renderChrome();
  go('#/signin', { ok: 'Signed out.' });
}

function onUnauthorized(err) {
  auth.signOut();
  rememberReturn(currentHash());
  renderChrome();
  go('#/signin', { error: err });
}

async function boot() {
  let config;
  try {
    config = await portalJson('config.json');
  } catch (err) {
    flash.error(err);
    document
      .getElementById('page')
      .replaceChildren(
        h('h1', { testid: 'page-title' }, 'Switchboard is unavailable'),
        h('p', null, 'The portal’s configuration (config.json) could not be loaded.'),
      );
    setReady('error');
    return;
  }
  configureApi({ apiVersion: config.apiVersion, apiBase: config.apiBase ?? deriveApiBase(), token: auth.token, onUnauthorized });
  auth.initAuth(config);

  let message = null;
  if (auth.signInMode() === 'oidc') {
    try {
      await auth.oidcComplete();
    } catch (err) {
      message = { error: err };
    }
  }

  renderChrome();
  startRouter(ROUTES, {
    home: HOME,
    notFound: NOT_FOUND,
    guard(route) {
      if (route?.public) return route.pattern === '/signin' && auth.signedIn() ? HOME : null;
      if (!auth.signedIn()) {
        rememberReturn(currentHash());
        renderChrome();
        return '#/signin';
      }
      return null;
    },
    afterRoute(route) {
      renderChrome(route?.section);
    },
    wrap(route) {
      return route?.needs && !auth.can(route.needs) ? forbidden(route) : route;
    },
  });
  if (message) flash.error(message.error);
}

// Below 900 px the navigation is a menu the topbar's button opens; choosing a page closes it.
const menu = document.querySelector('.menu-toggle');
function setMenu(open) {
  document.body.classList.toggle('nav-open', open);
  menu?.setAttribute('aria-expanded', String(open));
}
menu?.addEventListener('click', () => setMenu(!document.body.classList.contains('nav-open')));
window.addEventListener('hashchange', () => setMenu(false));

// The skip link moves the focus to the page without touching the hash the router owns.
document.querySelector('.skip-link')?.addEventListener('click', (e) => {
  e.preventDefault();
  document.getElementById('main')?.focus();
});

boot();
