/*
 * Sign-in page. Anonymous: calls only POST /bridge/login (no authenticated API before sign-in).
 * Server strings reach the DOM only via textContent (see lib/dom.js).
 */
import { api, safeNextPath } from '../lib/api.js';
import { byId } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { showAlert } from '../lib/ui.js';

const form = byId('login-form');
const username = byId('username');
const password = byId('password');
const submit = byId('login-submit');
const errorBox = byId('login-error');
const notice = byId('login-notice');
const params = new URLSearchParams(window.location.search);
let busy = false;

function setBusy(value) {
  busy = value;
  submit.disabled = value;
  submit.textContent = value ? t('login.signingIn') : t('login.signIn');
  form.setAttribute('aria-busy', value ? 'true' : 'false');
}

function markInvalid(input, invalid) {
  if (invalid) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

if (params.get('signed_out') === '1') {
  showAlert(notice, t('login.signedOut'));
} else if (params.has('next')) {
  showAlert(notice, t('login.pleaseSignIn'));
}

username.focus();

form.addEventListener('submit', async function (event) {
  event.preventDefault();
  if (busy) return;
  showAlert(errorBox, '');

  const name = username.value.trim();
  const pass = password.value;
  markInvalid(username, !name);
  markInvalid(password, !pass);
  if (!name || !pass) {
    showAlert(errorBox, !name ? t('login.enterUser') : t('login.enterPassword'));
    (!name ? username : password).focus();
    return;
  }

  setBusy(true);
  try {
    await api('/bridge/login', { method: 'POST', body: { username: name, password: pass }, auth: false });
    showAlert(notice, t('login.opening'));
    window.location.replace(safeNextPath(params.get('next')));
    return; // keep the button disabled while the next page loads
  } catch (e) {
    let message;
    // Orthanc 1.10 cannot send 429, so a locked sign-in comes as a 403
    // whose error says so; other 403s are plain wrong credentials.
    const throttled = e.status === 429 || (e.status === 403 && e.message === 'Too many failed attempts');
    if (throttled) {
      message = t('login.throttled', { detail: e.detail || t('login.waitAndRetry') });
    } else if (e.status === 403 || e.status === 401) {
      message = t('login.invalid');
    } else if (e.status === 0) {
      message = t('login.unreachable');
    } else {
      message = t('login.failed', { message: e.message + (e.detail ? ' (' + e.detail + ')' : '') });
    }
    showAlert(errorBox, message);
    password.value = '';
    markInvalid(password, e.status === 403 || e.status === 401);
    password.focus();
  }
  setBusy(false);
});
