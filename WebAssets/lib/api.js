/*
 * The staff pages' API calls: api(path, options) and the sign-in page's addresses.
 *
 * api(path, options) → Promise of the parsed JSON body (null when empty).
 *   options: method ("GET"), query ({key: value}), body (object, sent as JSON),
 *            auth (default true: on 401, or 403 without a valid session, go to the sign-in page),
 *            timeoutMs.
 *   Rejects with an Error having .status (0 = network), .message (for people), .detail, .body,
 *   .retryAfter.
 */
import { request } from './http.js';
import { isSafeUrl } from './dom.js';
import { t } from './i18n.js';

export const PRODUCT = 'HospitalBridge';
export const APP_ROOT = '/bridge/app/';
export const LOGIN_PAGE = '/bridge/app/login.html';

export function ApiError(status, message, detail, body) {
  const error = new Error(message);
  error.name = 'ApiError';
  error.status = status;        // 0 = network error or timeout
  error.detail = detail || '';
  error.body = body;
  return error;
}

const STATUS_KEYS = [0, 400, 401, 403, 404, 405, 413, 429];

function defaultMessage(status) {
  if (STATUS_KEYS.indexOf(status) !== -1) return t('api.status.' + status);
  if (status >= 500) return t('api.status.server', { status: String(status) });
  return t('api.status.unexpected', { status: String(status) });
}

// "message (detail)" of an ApiError, for alerts.
export function describeError(error) {
  if (!error) return '';
  const message = error.message ? String(error.message) : String(error);
  return message + (error.detail ? ' (' + String(error.detail) + ')' : '');
}

function buildPath(path, query) {
  if (typeof path !== 'string' || !isSafeUrl(path) || path.charAt(0) !== '/') {
    throw new Error('api: path must be a same-origin absolute path, got "' + path + '"');
  }
  const url = new URL(path, window.location.origin);
  if (query) {
    Object.keys(query).forEach(function (key) {
      const value = query[key];
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
    });
  }
  return url.pathname + url.search;
}

let redirecting = false;

// true once the page is leaving for the sign-in page (or after signing out).
export function leaving(value) {
  if (value) redirecting = true;
  return redirecting;
}

function currentPath() {
  return window.location.pathname + window.location.search + window.location.hash;
}

export function loginUrl(next) {
  const target = next === undefined ? currentPath() : next;
  return LOGIN_PAGE + (target ? '?next=' + encodeURIComponent(target) : '');
}

function goToLogin() {
  if (!redirecting) {
    redirecting = true;
    window.location.assign(loginUrl());
  }
  return new Promise(function () {}); // never settles: the page is going away
}

// A 403 means either "not signed in" (Orthanc's filter) or "signed in, but this role may not".
async function stillSignedIn() {
  try {
    const r = await fetch('/bridge/me', { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
    return r.ok;
  } catch (e) {
    return true; // cannot tell: do not throw the user out on a network blip
  }
}

export async function api(path, options) {
  options = options || {};
  const url = buildPath(path, options.query);
  let answer;
  try {
    answer = await request(url, { method: options.method, body: options.body, timeoutMs: options.timeoutMs });
  } catch (e) {
    throw ApiError(0, e && e.timedOut ? t('api.timeout') : defaultMessage(0), '', null);
  }
  if (answer.ok) return answer.body;
  const status = answer.status;
  const body = answer.body;
  if (options.auth !== false && (status === 401 || (status === 403 && !(await stillSignedIn())))) {
    return goToLogin();
  }
  const message = (body && typeof body === 'object' && typeof body.error === 'string' && body.error)
    ? body.error : defaultMessage(status);
  const detail = (body && typeof body === 'object' && typeof body.detail === 'string') ? body.detail : '';
  const error = ApiError(status, message, detail, body);
  error.retryAfter = answer.headers.get('Retry-After') || '';
  throw error;
}

/*
 * The "next" parameter of the sign-in page: only a same-origin path under /bridge/app/
 * is accepted (no open redirect). Returns the normalised path, or the app root.
 */
export function safeNextPath(next) {
  if (typeof next !== 'string' || next.length === 0 || next.length > 2048) return APP_ROOT;
  if (next.indexOf(APP_ROOT) !== 0) return APP_ROOT;             // must start with /bridge/app/
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return APP_ROOT;      // no control chars or backslashes
  let url;
  try { url = new URL(next, window.location.origin); } catch (e) { return APP_ROOT; }
  if (url.origin !== window.location.origin) return APP_ROOT;
  if (url.pathname.indexOf(APP_ROOT) !== 0) return APP_ROOT;      // e.g. /bridge/app/../../x
  if (url.pathname === LOGIN_PAGE) return APP_ROOT;               // no loop back to the sign-in page
  return url.pathname + url.search + url.hash;
}
