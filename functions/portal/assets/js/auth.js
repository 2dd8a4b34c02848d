// Sign-in (dev tokens or OIDC authorization code + PKCE), the token in sessionStorage, and
// what the signed-in roles grant (from config.json's `grants`).

import { ApiError, fetchJson, portalJson } from './api.js';

const TOKEN = 'switchboard.token';
const ID_TOKEN = 'switchboard.idToken';
const EXPIRES = 'switchboard.expiresAt';
const OIDC = 'switchboard.oidc';
/** Treat a token as expired this long before it is (clock skew, a request in flight). */
const SKEW_MS = 30_000;

let config = { signIn: 'dev', roles: [], grants: {}, oidc: null };

export function initAuth(cfg) {
  config = cfg;
}

/** 'dev' | 'oidc' | 'none' (the deployment has no sign-in configured). */
export function signInMode() {
  return ['dev', 'oidc'].includes(config.signIn) ? config.signIn : 'none';
}

export function availableRoles() {
  return config.roles || [];
}

/** The payload of a JWT, or null if it isn't one. */
export function decodeJwt(token) {
  const part = token?.split('.')[1];
  if (!part) return null;
  try {
    const b64 = part
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(part.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

function store(token, { idToken, expiresIn } = {}) {
  sessionStorage.setItem(TOKEN, token);
  if (idToken) sessionStorage.setItem(ID_TOKEN, idToken);
  else sessionStorage.removeItem(ID_TOKEN);
  const exp = decodeJwt(token)?.exp;
  const at = exp ? exp * 1000 : expiresIn ? Date.now() + expiresIn * 1000 : 0;
  if (at) sessionStorage.setItem(EXPIRES, String(at));
  else sessionStorage.removeItem(EXPIRES);
}

export function signOut() {
  for (const k of [TOKEN, ID_TOKEN, EXPIRES]) sessionStorage.removeItem(k);
}

/** The bearer token, or null when signed out or expired. */
export function token() {
  const t = sessionStorage.getItem(TOKEN);
  if (!t) return null;
  const at = Number(sessionStorage.getItem(EXPIRES) || 0);
  if (at && Date.now() > at - SKEW_MS) {
    signOut();
    return null;
  }
  return t;
}

export function signedIn() {
  return token() !== null;
}

/** The claims roles are read from: the access token's, else the ID token's. */
function claims() {
  const access = decodeJwt(token());
  if (access?.roles) return access;
  return decodeJwt(sessionStorage.getItem(ID_TOKEN)) || access || {};
}

export function roles() {
  const r = claims().roles;
  return Array.isArray(r) ? r : typeof r === 'string' ? [r] : [];
}

export function subject() {
  const c = claims();
  return c.preferred_username || c.upn || c.email || c.name || c.sub || '';
}

/** The union of what the roles grant: a Set of 'read' | 'write' | 'delete'. */
export function grants() {
  const out = new Set();
  for (const r of roles()) for (const g of config.grants?.[r] || []) out.add(g);
  return out;
}

export function can(permission) {
  return grants().has(permission);
}

// ---- dev sign-in ----

export async function devSignIn(role, subjectName) {
  const res = await portalJson('dev-token', { method: 'POST', body: { role, subject: subjectName } });
  if (!res?.token) throw new ApiError({ code: 'SignInFailed', message: 'the dev-token endpoint returned no token' });
  store(res.token, { expiresIn: res.expiresIn });
}

// ---- OIDC: authorization code flow with PKCE (S256) ----

function base64url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(n = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

function redirectUri() {
  // index.html, not the bare folder: API Gateway's {proxy+} route needs a file name to match.
  return config.oidc?.redirectUri || new URL('index.html', `${location.origin}${location.pathname.replace(/[^/]*$/, '')}`).href;
}

async function discovery() {
  const issuer = (config.oidc?.issuer || '').replace(/\/+$/, '');
  if (!issuer) throw new ApiError({ code: 'ConfigError', message: 'config.json has no oidc.issuer' });
  const { data } = await fetchJson(`${issuer}/.well-known/openid-configuration`, { headers: { Accept: 'application/json' } });
  return data;
}

/** Sends the browser to the identity provider; `returnTo` is the hash to come back to. */
export async function oidcBegin(returnTo) {
  if (!globalThis.crypto?.subtle) {
    throw new ApiError({ code: 'InsecureContext', message: 'sign-in needs HTTPS (crypto.subtle is unavailable)' });
  }
  const meta = await discovery();
  const verifier = randomString(48);
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = randomString(24);
  sessionStorage.setItem(OIDC, JSON.stringify({ state, verifier, returnTo: returnTo || '' }));
  const url = new URL(meta.authorization_endpoint);
  const p = url.searchParams;
  p.set('response_type', 'code');
  p.set('client_id', config.oidc.clientId);
  p.set('redirect_uri', redirectUri());
  p.set('scope', config.oidc.scope || 'openid');
  p.set('state', state);
  p.set('code_challenge', challenge);
  p.set('code_challenge_method', 'S256');
  location.assign(url.toString());
}

/**
 * Finishes a sign-in when the page was opened with `?code=&state=` (or `?error=`). Returns the
 * hash to go to, or null when there was nothing to finish. Throws on a failed sign-in.
 */
export async function oidcComplete() {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return null;
  const saved = JSON.parse(sessionStorage.getItem(OIDC) || 'null');
  sessionStorage.removeItem(OIDC);
  const returnTo = saved?.returnTo || '#/accounts';
  history.replaceState(null, '', location.pathname + returnTo);
  if (params.has('error')) {
    throw new ApiError({ code: params.get('error'), message: params.get('error_description') || 'sign-in was refused' });
  }
  if (!saved || saved.state !== params.get('state')) {
    throw new ApiError({ code: 'InvalidState', message: 'the sign-in response does not match the request (state); try again' });
  }
  const meta = await discovery();
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code: params.get('code'),
    redirect_uri: redirectUri(),
    client_id: config.oidc.clientId,
    code_verifier: saved.verifier,
  });
  const { data } = await fetchJson(meta.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: form,
  });
  if (!data?.access_token) throw new ApiError({ code: 'SignInFailed', message: 'the token endpoint returned no access_token' });
  store(data.access_token, { idToken: data.id_token, expiresIn: data.expires_in });
  return returnTo;
}
