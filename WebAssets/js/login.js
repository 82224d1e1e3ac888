/*
 * Login page. Anonymous: calls only POST /bridge/login (no authenticated API before sign-in).
 * Server strings reach the DOM only via textContent (see the rule at the top of app.js).
 */
(function () {
  'use strict';

  var form = document.getElementById('login-form');
  var username = document.getElementById('username');
  var password = document.getElementById('password');
  var submit = document.getElementById('login-submit');
  var errorBox = document.getElementById('login-error');
  var notice = document.getElementById('login-notice');
  var params = new URLSearchParams(window.location.search);
  var busy = false;

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function showNotice(message) {
    notice.textContent = message;
    notice.hidden = !message;
  }

  function setBusy(value) {
    busy = value;
    submit.disabled = value;
    submit.textContent = value ? 'Signing in\u2026' : 'Sign in';
    form.setAttribute('aria-busy', value ? 'true' : 'false');
  }

  function markInvalid(input, invalid) {
    if (invalid) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  if (params.get('signed_out') === '1') {
    showNotice('You have been signed out.');
  } else if (params.has('next')) {
    showNotice('Please sign in to continue.');
  }

  username.focus();

  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    if (busy) return;
    showError('');

    var name = username.value.trim();
    var pass = password.value;
    markInvalid(username, !name);
    markInvalid(password, !pass);
    if (!name || !pass) {
      showError(!name ? 'Enter your user name.' : 'Enter your password.');
      (!name ? username : password).focus();
      return;
    }

    setBusy(true);
    try {
      await HB.api('/bridge/login', {
        method: 'POST',
        body: { username: name, password: pass },
        auth: false
      });
      showNotice('Signed in. Opening HospitalBridge\u2026');
      window.location.replace(HB.safeNextPath(params.get('next')));
      return; // keep the button disabled while the next page loads
    } catch (e) {
      var message;
      // Orthanc 1.10 cannot send 429, so a locked sign-in comes as a 403
      // whose error says so; other 403s are plain wrong credentials.
      var throttled = e.status === 429 || (e.status === 403 && e.message === 'Too many failed attempts');
      if (throttled) {
        message = 'Too many failed attempts. ' + (e.detail || 'Please wait and try again.');
      } else if (e.status === 403 || e.status === 401) {
        message = 'Invalid user name or password';
      } else if (e.status === 0) {
        message = 'Cannot reach the HospitalBridge server. Check the network connection and try again.';
      } else {
        message = 'Sign in failed: ' + e.message + (e.detail ? ' (' + e.detail + ')' : '');
      }
      showError(message);
      password.value = '';
      markInvalid(password, e.status === 403 || e.status === 401);
      password.focus();
    }
    setBusy(false);
  });
})();
