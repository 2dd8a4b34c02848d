// The one place that talks HTTP: base URL, api-version, bearer token, request ids and the
// error envelope `{"error":{"code","message","target","details"}}`.

const settings = {
  apiVersion: '2024-02-29-preview',
  /** Path prefix of the API on this origin ('' when the API is at `/`). */
  apiBase: '',
  token: () => null,
  onUnauthorized: () => {},
};

/** Called once at start-up by main.js. */
export function configureApi(opts) {
  Object.assign(settings, opts);
}

/** The API prefix for a page served at `<prefix>/portal/...`. */
export function deriveApiBase(pathname = location.pathname) {
  const i = pathname.indexOf('/portal/');
  return i > 0 ? pathname.slice(0, i) : '';
}

export class ApiError extends Error {
  constructor({ status = 0, code, message, target, details = [], requestId } = {}) {
    super(message || code || 'request failed');
    this.name = 'ApiError';
    this.status = status;
    this.code = code || (status ? `HTTP${status}` : 'Error');
    this.target = target || undefined;
    this.details = Array.isArray(details) ? details : [];
    this.requestId = requestId;
  }

  /** A problem found before sending, in the API's own shape. */
  static input(target, message, details = []) {
    return new ApiError({ code: 'InvalidInput', message, target, details });
  }
}

/** Builds `/a/b/c` from raw segments, each percent-encoded. */
export function apiPath(...segments) {
  return '/' + segments.map((s) => encodeURIComponent(s)).join('/');
}

function requestId() {
  return globalThis.crypto?.randomUUID ? crypto.randomUUID() : undefined;
}

/** Reads an error response: the API's envelope, an OAuth error, or anything else. */
async function errorFrom(res) {
  const requestId = res.headers.get('x-ms-request-id') || undefined;
  let text = '';
  try {
    text = await res.text();
  } catch {
    /* body unreadable: fall through */
  }
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  const status = res.status;
  if (body && typeof body.error === 'object' && body.error) {
    return new ApiError({ status, requestId, ...body.error });
  }
  if (body && typeof body.error === 'string') {
    return new ApiError({ status, requestId, code: body.error, message: body.error_description || body.error });
  }
  const code = res.headers.get('x-ms-error-code') || `HTTP${status}`;
  const message = (body && (body.message || body.Message)) || text.slice(0, 300) || res.statusText || 'request failed';
  return new ApiError({ status, requestId, code, message });
}

function networkError(e) {
  return new ApiError({ code: 'NetworkError', message: `the request could not be sent: ${e.message || e}` });
}

/** fetch + error parsing, for any URL (the API, the portal's own JSON, an identity provider). */
export async function fetchJson(url, init = {}) {
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw networkError(e);
  }
  if (!res.ok) throw await errorFrom(res);
  const text = res.status === 204 ? '' : await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      throw new ApiError({ status: res.status, code: 'InvalidResponse', message: 'the response is not JSON' });
    }
  }
  return { data, status: res.status, headers: res.headers, etag: res.headers.get('etag') };
}

/** A JSON file or endpoint of the portal itself (relative to /portal/). */
export async function portalJson(path, { method = 'GET', body } = {}) {
  const init = { method, headers: { Accept: 'application/json' }, cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return (await fetchJson(path, init)).data;
}

/** The full URL of an API path with its query (api-version always set). */
function apiUrl(path, query) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  params.set('api-version', settings.apiVersion);
  return `${settings.apiBase}${path}?${params}`;
}

function authHeaders(extra = {}) {
  const headers = { Accept: 'application/json', ...extra };
  const t = settings.token();
  if (t) headers.Authorization = `Bearer ${t}`;
  const id = requestId();
  if (id) headers['x-ms-client-request-id'] = id;
  return headers;
}

function checkAuth(err) {
  if (err instanceof ApiError && err.status === 401) settings.onUnauthorized(err);
  return err;
}

/** One API call. `opts`: query, body (JSON unless contentType says otherwise), contentType, ifMatch, ifNoneMatch. */
export async function call(method, path, opts = {}) {
  const extra = {};
  if (opts.ifMatch) extra['If-Match'] = opts.ifMatch;
  if (opts.ifNoneMatch) extra['If-None-Match'] = opts.ifNoneMatch;
  const init = { method, headers: authHeaders(extra), cache: 'no-store' };
  if (opts.body !== undefined) {
    init.headers['Content-Type'] = opts.contentType || 'application/json';
    init.body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  try {
    return await fetchJson(apiUrl(path, opts.query), init);
  } catch (e) {
    throw checkAuth(e);
  }
}

export const api = {
  get: (path, opts) => call('GET', path, opts),
  put: (path, body, opts = {}) => call('PUT', path, { ...opts, body }),
  post: (path, body, opts = {}) => call('POST', path, { ...opts, body }),
  patch: (path, body, opts = {}) => call('PATCH', path, { ...opts, body }),
  del: (path, opts) => call('DELETE', path, opts),

  /**
   * One page of a list: `{value, nextLink, count}`. Either the first page (`query`: filter,
   * maxpagesize, countRecords…) or the page a previous `nextLink` names; the link's query is
   * replayed against `path` on this origin, so a link built for another host still works.
   */
  async list(path, { query = {}, link = null } = {}) {
    let q = query;
    if (link) {
      q = {};
      for (const [k, v] of new URL(link, location.href).searchParams) q[k] = v;
    }
    const { data, headers } = await call('GET', path, { query: q });
    const count = headers.get('x-ms-record-count');
    return {
      value: data?.value ?? [],
      nextLink: data?.nextLink || null,
      count: count == null ? null : Number(count),
    };
  },

  /** Every item of a list, following nextLink (at most `maxPages` pages). */
  async listAll(path, { query = {}, maxPages = 20 } = {}) {
    const out = [];
    let page = await api.list(path, { query: { maxpagesize: 500, ...query } });
    out.push(...page.value);
    for (let i = 1; page.nextLink && i < maxPages; i++) {
      page = await api.list(path, { link: page.nextLink });
      out.push(...page.value);
    }
    return out;
  },

  /** A file from the API (e.g. a CSV export) as `{blob, filename}`. */
  async download(path, { query } = {}) {
    let res;
    try {
      res = await fetch(apiUrl(path, query), { headers: authHeaders({ Accept: 'text/csv, */*' }), cache: 'no-store' });
    } catch (e) {
      throw networkError(e);
    }
    if (!res.ok) throw checkAuth(await errorFrom(res));
    const cd = res.headers.get('content-disposition') || '';
    const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
    return { blob: await res.blob(), filename: m ? decodeURIComponent(m[1]) : null };
  },

  /**
   * Uploads a body with XMLHttpRequest so the upload's progress can be shown.
   * `onProgress(loaded, total)` while sending; `onSent()` once the body is out (the server is processing).
   */
  upload(path, body, { contentType = 'text/csv', onProgress, onSent, query } = {}) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', apiUrl(path, query));
      for (const [k, v] of Object.entries(authHeaders({ 'Content-Type': contentType }))) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : 0);
      xhr.upload.onload = () => onSent?.();
      xhr.onerror = () => reject(networkError(new Error('connection failed')));
      xhr.ontimeout = () => reject(networkError(new Error('timed out')));
      xhr.onload = async () => {
        const headers = new Headers();
        for (const line of xhr
          .getAllResponseHeaders()
          .trim()
          .split(/[\r\n]+/)) {
          const i = line.indexOf(':');
          if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
        }
        const res = new Response(xhr.status === 204 ? null : xhr.responseText, { status: xhr.status, headers });
        if (!res.ok) {
          reject(checkAuth(await errorFrom(res)));
          return;
        }
        const text = await res.text();
        try {
          resolve(text ? JSON.parse(text) : {});
        } catch {
          resolve({ raw: text });
        }
      };
      xhr.send(body);
    });
  },
};
