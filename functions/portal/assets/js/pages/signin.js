// #/signin: a role picker and subject for dev tokens, or the organisation's OIDC sign-in.

import { availableRoles, devSignIn, oidcBegin, signInMode } from '../auth.js';
import { field, flash, h, options } from '../dom.js';

/** Where to go after signing in (the page that sent the user here). */
const RETURN = 'switchboard.returnTo';

export function rememberReturn(hash) {
  if (hash && !hash.startsWith('#/signin')) sessionStorage.setItem(RETURN, hash);
}

function takeReturn() {
  const r = sessionStorage.getItem(RETURN);
  sessionStorage.removeItem(RETURN);
  return r || '#/accounts';
}

/** `onSignedIn(hash)` is called after a dev sign-in; OIDC leaves the page instead. */
export function signinPage(onSignedIn) {
  return async function render(ctx) {
    const title = h('h1', { testid: 'page-title' }, 'Sign in');
    const submit = h('button', { type: 'submit', class: 'primary', testid: 'signin-submit' }, 'Sign in');
    let form;
    if (signInMode() === 'none') {
      form = h(
        'div',
        { class: 'notice', testid: 'signin-unavailable' },
        'Sign-in is not configured for this deployment: it needs an OpenID Connect issuer and client ID ',
        '(or, locally, the development signing key). Ask your administrator.',
      );
    } else if (signInMode() === 'oidc') {
      form = h(
        'form',
        { class: 'card signin' },
        h('p', null, 'Sign in with your organisation account. Your app roles decide what you can see and change.'),
        h('div', { class: 'actions' }, submit),
      );
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        flash.clear();
        submit.disabled = true;
        try {
          await oidcBegin(sessionStorage.getItem(RETURN) || '#/accounts');
        } catch (err) {
          flash.error(err);
          submit.disabled = false;
        }
      });
    } else {
      const roles = availableRoles();
      const role = h(
        'select',
        { testid: 'signin-role', name: 'role', required: true },
        options(
          roles.map((r) => ({ value: r })),
          roles.find((r) => r.endsWith('.AdminUser')) || roles[0],
        ),
      );
      const subject = h('input', { type: 'text', testid: 'signin-subject', name: 'subject', value: 'portal-user', required: true, autocomplete: 'username' });
      form = h(
        'form',
        { class: 'card signin' },
        h('p', { class: 'hint' }, 'Development sign-in: the portal mints a short-lived token with the role you pick.'),
        field('Role', role),
        field('Subject', subject, 'Recorded as the caller (the token’s sub claim).'),
        h('div', { class: 'actions' }, submit),
      );
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        flash.clear();
        submit.disabled = true;
        try {
          await devSignIn(role.value, subject.value.trim() || 'portal-user');
          onSignedIn(takeReturn());
        } catch (err) {
          flash.error(err);
          submit.disabled = false;
        }
      });
    }
    ctx.add(title, form);
    ctx.done();
  };
}
