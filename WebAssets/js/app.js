/*
 * HospitalBridge staff web app: shared helpers and page layout (header, navigation, footer).
 *
 * SECURITY RULE (applies to this file and to every page script):
 *   Every string that comes from the server reaches the DOM ONLY through textContent,
 *   document.createElement / createTextNode, or setAttribute of safe attributes.
 *   DICOM values are attacker-controllable: a patient name can be "<img src=x onerror=alert(1)>".
 *   NEVER use innerHTML, outerHTML, insertAdjacentHTML, document.write, eval, or
 *   on* / style attributes with data. Build nodes with HB.el() and HB.setText().
 *   The pages are also served with a strict Content-Security-Policy (no inline script,
 *   no inline style, no event-handler attributes, nothing from other origins): keep it that way.
 *
 * Plain ES2017, no build step, no framework. Every page loads this file first:
 *   <script src="/bridge/app/js/app.js" defer></script>
 *   <script src="/bridge/app/js/<page>.js" defer></script>
 * and a page that needs a signed-in user calls HB.initLayout({page: "<nav id>", title: "..."}).
 */
(function () {
  'use strict';

  var PRODUCT = 'HospitalBridge';
  var APP_ROOT = '/bridge/app/';
  var LOGIN_PAGE = '/bridge/app/login.html';
  var API_TIMEOUT_MS = 30000;

  /*
   * Navigation. To add a page: create WebAssets/<name>.html + js/<name>.js, then set
   * "ready: true" on its entry (or add an entry). "roles" limits who sees the link
   * (omitted = every staff role); the server still enforces permissions on every call.
   */
  var NAV = [
    { id: 'dashboard', label: 'Dashboard', href: '/bridge/app/', ready: true },
    { id: 'studies', label: 'Studies', href: '/bridge/app/studies.html', ready: false },
    { id: 'patients', label: 'Patients', href: '/bridge/app/patients.html', ready: true },
    { id: 'federation', label: 'Federation', href: '/bridge/app/federation.html', ready: true },
    // Sites: every staff role reads the list; only administrators see the edit controls
    // (the server refuses writes from other roles anyway).
    { id: 'sites', label: 'Sites', href: '/bridge/app/sites.html', ready: true },
    { id: 'reception', label: 'Reception', href: '/bridge/app/reception.html', ready: true },
    { id: 'audit', label: 'Audit', href: '/bridge/app/audit.html', ready: true, roles: ['admin'] },
    { id: 'users', label: 'Users', href: '/bridge/app/users.html', ready: false, roles: ['admin'] },
    { id: 'explorer', label: 'Orthanc Explorer', href: '/app/explorer.html', ready: true, external: true }
  ];

  var ROLE_LABELS = {
    admin: 'Administrator',
    radiologist: 'Radiologist',
    technician: 'Technician',
    reception: 'Reception',
    peer: 'Peer site'
  };

  /* ------------------------------------------------------------------ DOM helpers */

  var URL_ATTRIBUTES = { href: true, src: true, action: true, formaction: true, xlink_href: true, poster: true };

  // Only same-origin absolute paths ("/x", not "//x") or in-page fragments ("#x").
  function isSafeUrl(value) {
    if (typeof value !== 'string') return false;
    if (value.charAt(0) === '#') return true;
    if (value.charAt(0) !== '/' || value.charAt(1) === '/' || value.charAt(1) === '\\') return false;
    if (/[\u0000-\u001f\u007f\\]/.test(value)) return false;
    try {
      return new URL(value, window.location.origin).origin === window.location.origin;
    } catch (e) {
      return false;
    }
  }

  /*
   * Sets an attribute, refusing the dangerous ones: event handlers, style, srcdoc, and
   * URL attributes whose value is not a same-origin path.
   */
  function setAttr(node, name, value) {
    var lower = String(name).toLowerCase();
    if (lower.indexOf('on') === 0 || lower === 'style' || lower === 'srcdoc') {
      throw new Error('HB.setAttr: refusing attribute "' + name + '"');
    }
    if (URL_ATTRIBUTES[lower.replace(':', '_')] && !isSafeUrl(String(value))) {
      throw new Error('HB.setAttr: refusing URL "' + value + '"');
    }
    node.setAttribute(name, String(value));
  }

  /*
   * el("td", {className: "num", text: value, attrs: {"data-label": "Series"}}, [children])
   * Children may be nodes or strings (strings become text nodes); null/undefined are skipped.
   */
  function el(tag, props, children) {
    var node = document.createElement(tag);
    props = props || {};
    if (props.className) node.className = props.className;
    if (props.id) node.id = props.id;
    if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
    if (props.hidden) node.hidden = true;
    if (props.attrs) {
      Object.keys(props.attrs).forEach(function (name) {
        var value = props.attrs[name];
        if (value !== undefined && value !== null && value !== false) setAttr(node, name, value);
      });
    }
    if (props.on) {
      Object.keys(props.on).forEach(function (type) {
        node.addEventListener(type, props.on[type]);
      });
    }
    appendChildren(node, children);
    return node;
  }

  function appendChildren(node, children) {
    if (children === undefined || children === null) return node;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (child) {
      if (child === undefined || child === null || child === false) return;
      node.appendChild(typeof child === 'string' || typeof child === 'number'
        ? document.createTextNode(String(child)) : child);
    });
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  // Sets the text of the element with that id (or of a node). Missing values show as a dash.
  function setText(target, value) {
    var node = typeof target === 'string' ? document.getElementById(target) : target;
    if (!node) return null;
    node.textContent = (value === undefined || value === null || value === '') ? '\u2014' : String(value);
    return node;
  }

  /* ----------------------------------------------------------------- formatting */

  /*
   * DICOM PN "FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX" → "FAMILY, GIVEN MIDDLE" (prefix before the
   * given name, suffix after a comma). Component groups ("alphabetic=ideographic=phonetic")
   * are each formatted and kept, joined by "=", so nothing the sender wrote is hidden.
   */
  function formatPersonNameGroup(group) {
    var parts = group.split('^').map(function (p) { return p.trim(); });
    var family = parts[0] || '';
    var given = [parts[3], parts[1], parts[2]].filter(function (p) { return p; }).join(' ');
    var suffix = parts[4] || '';
    var name = family && given ? family + ', ' + given : (family || given);
    if (suffix) name = name ? name + ', ' + suffix : suffix;
    if (parts.length > 5) name += ' ' + parts.slice(5).join(' ').trim();   // malformed: keep the rest
    return name.trim();
  }

  function formatPatientName(raw) {
    if (raw === undefined || raw === null) return '';
    var groups = String(raw).split('=').map(formatPersonNameGroup);
    while (groups.length > 0 && groups[groups.length - 1] === '') groups.pop();
    return groups.join('=');
  }

  // "YYYY-MM-DD" (+ optional "HH:MM:SS") → "YYYY-MM-DD HH:MM". Unambiguous in every locale.
  function formatStudyDate(date, time) {
    if (!date) return '';
    var t = time ? String(time).slice(0, 5) : '';
    return t ? date + ' ' + t : String(date);
  }

  // ISO UTC timestamp → browser-local date and time. Unparseable input is returned as is.
  function formatDateTime(iso) {
    if (!iso) return '';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    return d.toLocaleString(undefined, {
      year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit'
    });
  }

  function formatTime(date) {
    return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  function formatNumber(n) {
    if (n === undefined || n === null || n === '') return '';
    var num = Number(n);
    return isFinite(num) ? num.toLocaleString() : String(n);
  }

  function roleLabel(role) {
    return ROLE_LABELS[role] || (role ? String(role) : '');
  }

  /* ------------------------------------------------------------------------ API */

  function ApiError(status, message, detail, body) {
    var error = new Error(message);
    error.name = 'ApiError';
    error.status = status;        // 0 = network error or timeout
    error.detail = detail || '';
    error.body = body;
    return error;
  }

  var DEFAULT_MESSAGES = {
    0: 'Cannot reach the server. Check the network connection and try again.',
    400: 'The server did not accept the request.',
    401: 'Please sign in.',
    403: 'You do not have permission to do this.',
    404: 'Not found.',
    405: 'This action is not allowed.',
    413: 'The request is too large.',
    429: 'Too many requests. Please wait and try again.'
  };

  function defaultMessage(status) {
    if (DEFAULT_MESSAGES[status]) return DEFAULT_MESSAGES[status];
    if (status >= 500) return 'The server had a problem (HTTP ' + status + '). Try again, or contact IT if it persists.';
    return 'Unexpected answer from the server (HTTP ' + status + ').';
  }

  function buildPath(path, query) {
    if (typeof path !== 'string' || !isSafeUrl(path) || path.charAt(0) !== '/') {
      throw new Error('HB.api: path must be a same-origin absolute path, got "' + path + '"');
    }
    var url = new URL(path, window.location.origin);
    if (query) {
      Object.keys(query).forEach(function (key) {
        var value = query[key];
        if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
      });
    }
    return url.pathname + url.search;
  }

  async function readBody(response) {
    var text = '';
    try { text = await response.text(); } catch (e) { text = ''; }
    if (!text) return null;
    try { return JSON.parse(text); } catch (e) { return text; }
  }

  var redirecting = false;

  function currentPath() {
    return window.location.pathname + window.location.search + window.location.hash;
  }

  function loginUrl(next) {
    var target = next === undefined ? currentPath() : next;
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
      var r = await fetch('/bridge/me', {
        credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' }
      });
      return r.ok;
    } catch (e) {
      return true; // cannot tell: do not throw the user out on a network blip
    }
  }

  /*
   * api(path, options) → Promise of the parsed JSON body (null when empty).
   * options: method ("GET"), query ({key: value}), body (object, sent as JSON),
   *          auth (default true: on 401, or 403 without a valid session, go to the login page),
   *          timeoutMs.
   * Rejects with an Error having .status (0 = network), .message (human readable), .detail, .body.
   */
  async function api(path, options) {
    options = options || {};
    var url = buildPath(path, options.query);
    var method = (options.method || 'GET').toUpperCase();
    var headers = { Accept: 'application/json' };
    var init = { method: method, headers: headers, credentials: 'same-origin', cache: 'no-store' };
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = null;
    if (controller) {
      init.signal = controller.signal;
      timer = setTimeout(function () { controller.abort(); }, options.timeoutMs || API_TIMEOUT_MS);
    }

    var response;
    try {
      response = await fetch(url, init);
    } catch (e) {
      if (timer) clearTimeout(timer);
      var timedOut = e && e.name === 'AbortError';
      throw ApiError(0, timedOut ? 'The server did not answer in time. Try again.' : DEFAULT_MESSAGES[0], '', null);
    }
    var body = await readBody(response);
    if (timer) clearTimeout(timer);

    if (response.ok) return body;

    var needsLogin = options.auth !== false;
    if (needsLogin && (response.status === 401 || (response.status === 403 && !(await stillSignedIn())))) {
      return goToLogin();
    }
    var message = (body && typeof body === 'object' && typeof body.error === 'string' && body.error)
      ? body.error : defaultMessage(response.status);
    var detail = (body && typeof body === 'object' && typeof body.detail === 'string') ? body.detail : '';
    var error = ApiError(response.status, message, detail, body);
    error.retryAfter = response.headers.get('Retry-After') || '';
    throw error;
  }

  /*
   * The "next" parameter of the login page: only a same-origin path under /bridge/app/
   * is accepted (no open redirect). Returns the normalised path, or the app root.
   */
  function safeNextPath(next) {
    if (typeof next !== 'string' || next.length === 0 || next.length > 2048) return APP_ROOT;
    if (next.indexOf(APP_ROOT) !== 0) return APP_ROOT;             // must start with /bridge/app/
    if (/[\u0000-\u001f\u007f\\]/.test(next)) return APP_ROOT;      // no control chars or backslashes
    var url;
    try { url = new URL(next, window.location.origin); } catch (e) { return APP_ROOT; }
    if (url.origin !== window.location.origin) return APP_ROOT;
    if (url.pathname.indexOf(APP_ROOT) !== 0) return APP_ROOT;      // e.g. /bridge/app/../../x
    if (url.pathname === LOGIN_PAGE) return APP_ROOT;               // no loop back to the login page
    return url.pathname + url.search + url.hash;
  }

  /* -------------------------------------------------------------------- polling */

  var DEFAULT_IDLE_MS = 10 * 60 * 1000;

  /*
   * Calls fn() now, then every intervalMs (after the previous call finished) while the tab is
   * visible and someone used the page within idleMs (default 10 min). An unattended screen
   * stops polling, so the server's idle-session timeout still signs it out; a key press,
   * click, touch or mouse move resumes at once. options.onPause(true|false) reports pauses.
   * Returns {refreshNow()}.
   */
  function startPolling(fn, options) {
    options = options || {};
    var intervalMs = options.intervalMs || 10000;
    var idleMs = options.idleMs || DEFAULT_IDLE_MS;
    var lastActivity = Date.now();
    var timer = null;
        var running = false;
    var again = false;   // a refresh asked for while one was running: run once more right after
    var paused = false;

    function setPaused(value) {
      if (paused === value) return;
      paused = value;
      if (options.onPause) options.onPause(value);
    }

    function schedule() {
      clearTimeout(timer);
      timer = null;
      if (!document.hidden && !paused) timer = setTimeout(tick, intervalMs);
    }

    async function tick() {
      clearTimeout(timer);
      timer = null;
            if (running) { again = true; return; }
      if (document.hidden) return;
      if (Date.now() - lastActivity > idleMs) { setPaused(true); return; }
      running = true;
      try { await fn(); } catch (e) { /* fn reports its own errors */ }
      running = false;
      if (again) { again = false; tick(); return; }
      schedule();
    }

    function activity() {
      lastActivity = Date.now();
      if (paused) { setPaused(false); tick(); }
    }

    ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'].forEach(function (type) {
      document.addEventListener(type, activity, { passive: true, capture: true });
    });
    document.addEventListener('visibilitychange', function () {
      if (document.hidden) { clearTimeout(timer); timer = null; return; }
      lastActivity = Date.now();
      setPaused(false);
      tick();
    });
    tick();
    return { refreshNow: tick };
  }

  /* --------------------------------------------------------------------- layout */

  var layout = null;   // references to the header/footer nodes once built
  var lastSystem = null;

  function navItemVisible(item, role) {
    if (!item.ready) return false;
    if (!item.roles) return role !== 'peer';
    return item.roles.indexOf(role) !== -1;
  }

  function buildHeader(page) {
    var header = document.querySelector('header.hb-header');
    if (!header) {
      header = el('header', { className: 'hb-header' });
      document.body.insertBefore(header, document.body.firstChild);
    }
    clear(header);

    var siteName = el('span', { className: 'hb-site-name', text: '' });
    var siteId = el('span', { className: 'hb-site-id', text: '' });
    var toggle = el('button', {
      className: 'hb-menu-toggle',
      attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'hb-nav-panel' }
    }, [el('span', { className: 'hb-menu-icon', attrs: { 'aria-hidden': 'true' } }), el('span', { text: 'Menu' })]);

    var bar = el('div', { className: 'hb-bar' }, [
      el('a', { className: 'hb-brand', attrs: { href: APP_ROOT } }, [
        el('img', { attrs: { src: '/bridge/app/img/logo.svg', alt: '', width: '28', height: '28' } }),
        el('span', { className: 'hb-brand-name', text: PRODUCT })
      ]),
      el('span', { className: 'hb-site' }, [siteName, siteId]),
      toggle
    ]);

    var navList = el('ul', { className: 'hb-nav-list' });
    var navLinks = [];
    NAV.forEach(function (item) {
      var link = el('a', {
        className: 'hb-nav-link' + (item.external ? ' hb-nav-external' : ''),
        text: item.label,
        attrs: { href: item.href, 'aria-current': item.id === page ? 'page' : null }
      });
      var li = el('li', { hidden: !navItemVisible(item, '') }, [link]);
      navLinks.push({ item: item, li: li });
      navList.appendChild(li);
    });

    var userName = el('span', { className: 'hb-user-name', text: '' });
    var userRole = el('span', { className: 'hb-role', text: '' });
    var signOut = el('button', { className: 'hb-button hb-button-quiet hb-signout', text: 'Sign out', attrs: { type: 'button' } });
    var signOutError = el('span', { className: 'hb-signout-error', attrs: { role: 'alert' } });

    var panel = el('div', { className: 'hb-panel', id: 'hb-nav-panel' }, [
      el('nav', { className: 'hb-nav', attrs: { 'aria-label': 'Main' } }, [navList]),
      el('div', { className: 'hb-user' }, [
        el('span', { className: 'hb-user-who' }, [
          el('span', { className: 'hb-visually-hidden', text: 'Signed in as ' }), userName, userRole
        ]),
        signOut,
        signOutError
      ])
    ]);

    header.appendChild(bar);
    header.appendChild(panel);

    toggle.addEventListener('click', function () {
      setMenuOpen(toggle.getAttribute('aria-expanded') !== 'true');
    });
    header.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && toggle.getAttribute('aria-expanded') === 'true') {
        setMenuOpen(false);
        toggle.focus();
      }
    });
    function setMenuOpen(open) {
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
      header.classList.toggle('hb-menu-open', open);
    }

    signOut.addEventListener('click', function () { doSignOut(signOut, signOutError); });

    return {
      header: header, siteName: siteName, siteId: siteId, navLinks: navLinks,
      userName: userName, userRole: userRole
    };
  }

  function buildFooter() {
    var footer = document.querySelector('footer.hb-footer');
    if (!footer) {
      footer = el('footer', { className: 'hb-footer' });
      document.body.appendChild(footer);
    }
    clear(footer);
    var version = el('span', { className: 'hb-footer-version', text: PRODUCT });
    var extra = el('span', { className: 'hb-footer-extra', text: '' });
    footer.appendChild(el('div', { className: 'hb-footer-inner' }, [version, extra]));
    return { version: version, extra: extra };
  }

  async function doSignOut(button, errorNode) {
    button.disabled = true;
    errorNode.textContent = '';
    try {
      await api('/bridge/logout', { method: 'POST', auth: false });
    } catch (e) {
      // 401/403: the session was already gone, which is what we wanted.
      if (e.status !== 401 && e.status !== 403) {
        button.disabled = false;
        errorNode.textContent = 'Sign out failed: ' + e.message;
        return;
      }
    }
    redirecting = true;
    window.location.replace(LOGIN_PAGE + '?signed_out=1');
  }

  function applySystem(system) {
    lastSystem = system;
    if (!layout || !system) return;
    var site = system.site || {};
    var user = system.user || {};
    var plugin = system.plugin || {};
    layout.siteName.textContent = site.name || '';
    layout.siteId.textContent = site.id ? site.id : '';
    layout.userName.textContent = user.username || '';
    layout.userRole.textContent = roleLabel(user.role);
    layout.navLinks.forEach(function (entry) {
      entry.li.hidden = !navItemVisible(entry.item, user.role || '');
    });
    layout.footer.version.textContent = (plugin.name || PRODUCT) + (plugin.version ? ' ' + plugin.version : '');
    var orthanc = system.orthanc || {};
    layout.footer.extra.textContent = orthanc.version ? 'Orthanc ' + orthanc.version : '';
    var parts = [layout.title];
    if (site.name) parts.push(site.name);
    parts.push(PRODUCT);
    document.title = parts.filter(function (p) { return p; }).join(' \u2014 ');
  }

  // GET /bridge/system, and refresh the header/footer with it. Resolves with the system object.
  async function loadSystem() {
    var system = await api('/bridge/system');
    applySystem(system);
    return system;
  }

  /*
   * Builds the header (product, site, navigation, user, sign out) and footer, then loads
   * /bridge/system. options: page (NAV id of the current page), title (page title).
   * Resolves with the system object; rejects with an ApiError (the header stays usable).
   */
  function initLayout(options) {
    options = options || {};
    layout = buildHeader(options.page || '');
    layout.footer = buildFooter();
    layout.title = options.title || '';
    return loadSystem();
  }

  /* ------------------------------------------------------- shared page helpers */

  // "message (detail)" of an ApiError, for alerts.
  function describeError(error) {
    if (!error) return '';
    var message = error.message ? String(error.message) : String(error);
    return message + (error.detail ? ' (' + String(error.detail) + ')' : '');
  }

  var SEX_LABELS = { M: 'Male', F: 'Female', O: 'Other' };

  function formatSex(value) {
    if (value === undefined || value === null || value === '') return '';
    return SEX_LABELS[String(value).toUpperCase()] || String(value);
  }

  // Registry names: "LAST, First" (the order staff see in DICOM viewers too).
  function formatRegistryName(first, last) {
    first = first ? String(first).trim() : '';
    last = last ? String(last).trim() : '';
    if (first && last) return last + ', ' + first;
    return last || first;
  }

  /*
   * A modal confirmation (a <dialog>, so no inline script or style is needed).
   * options: title, body (strings or nodes, as for el()), confirmLabel, cancelLabel, danger.
   * Resolves true when confirmed, false otherwise. Falls back to window.confirm (plain text).
   */
  function confirmDialog(options) {
    options = options || {};
    var dialog = document.createElement('dialog');
    if (typeof dialog.showModal !== 'function') {
      var lines = [options.title || ''];
      (Array.isArray(options.body) ? options.body : [options.body]).forEach(function (part) {
        if (part === undefined || part === null || part === false) return;
        lines.push(typeof part === 'string' ? part : (part.textContent || ''));
      });
      return Promise.resolve(window.confirm(lines.join('\n')));
    }
    dialog.className = 'hb-dialog';
    var titleId = 'hb-dialog-title-' + Date.now();
    dialog.setAttribute('aria-labelledby', titleId);
    var cancel = el('button', { className: 'hb-button', text: options.cancelLabel || 'Cancel', attrs: { type: 'button' } });
    var confirm = el('button', {
      className: 'hb-button ' + (options.danger ? 'hb-button-danger' : 'hb-button-primary'),
      text: options.confirmLabel || 'OK', attrs: { type: 'button' }
    });
    appendChildren(dialog, [
      el('h2', { className: 'hb-dialog-title', id: titleId, text: options.title || 'Please confirm' }),
      el('div', { className: 'hb-dialog-body' }, options.body),
      el('div', { className: 'hb-dialog-actions' }, [cancel, confirm])
    ]);
    document.body.appendChild(dialog);
    return new Promise(function (resolve) {
      var answered = false;
      function finish(value) {
        if (answered) return;
        answered = true;
        if (dialog.open) dialog.close();
        if (dialog.parentNode) dialog.parentNode.removeChild(dialog);
        resolve(value);
      }
      cancel.addEventListener('click', function () { finish(false); });
      confirm.addEventListener('click', function () { finish(true); });
      dialog.addEventListener('cancel', function () { finish(false); });   // Escape
      dialog.addEventListener('close', function () { finish(false); });
      dialog.showModal();
      cancel.focus();
    });
  }

  window.HB = Object.freeze({
    PRODUCT: PRODUCT,
    APP_ROOT: APP_ROOT,
    LOGIN_PAGE: LOGIN_PAGE,
    NAV: NAV,
    api: api,
    el: el,
    setAttr: setAttr,
    setText: setText,
    clear: clear,
    appendChildren: appendChildren,
    isSafeUrl: isSafeUrl,
    safeNextPath: safeNextPath,
    loginUrl: loginUrl,
    formatPatientName: formatPatientName,
    formatStudyDate: formatStudyDate,
    formatDateTime: formatDateTime,
    formatTime: formatTime,
    formatNumber: formatNumber,
    roleLabel: roleLabel,
    initLayout: initLayout,
    startPolling: startPolling,
    loadSystem: loadSystem,
    lastSystem: function () { return lastSystem; },
    describeError: describeError,
    formatSex: formatSex,
    formatRegistryName: formatRegistryName,
    confirmDialog: confirmDialog
  });
})();
