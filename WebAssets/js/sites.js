/*
 * Sites: the hospitals this site knows (this one first). Every staff role reads; administrators edit.
 *   GET    /bridge/system        (layout, the caller's role)
 *   GET    /bridge/sites
 *   GET    /peers                (admin: Orthanc's peer names, suggestions for "Orthanc peer"; optional)
 *   POST   /bridge/sites         {id, name, address, phone, email, orthanc_peer}
 *   PUT    /bridge/sites/{id}    {name, address, phone, email, orthanc_peer}
 *   DELETE /bridge/sites/{id}    (after a confirmation dialog)
 * Server strings reach the DOM only via textContent / HB.el; the server's 400/409 detail is shown as is.
 */
(function () {
  'use strict';

  var el = HB.el;
  var SITE_ID = /^[A-Za-z0-9_-]{1,32}$/;
  var FIELDS = ['id', 'name', 'address', 'phone', 'email', 'orthanc_peer'];

  var isAdmin = false;
  var sites = [];
  var editingId = null;   // null: adding

  function byId(id) { return document.getElementById(id); }
  function str(value) { return value === undefined || value === null ? '' : String(value); }
  function input(field) { return byId('site-' + (field === 'orthanc_peer' ? 'peer' : field)); }

  function showBox(id, message) {
    var box = byId(id);
    box.textContent = message || '';
    box.hidden = !message;
  }

  function setMessage(text, tone) {
    var node = byId('site-message');
    node.textContent = text || '';
    node.className = 'hb-form-message' + (tone ? ' hb-form-message-' + tone : '');
  }

  function cell(label, content, className) {
    var td = el('td', { className: className || '', attrs: { 'data-label': label } });
    if (content === undefined || content === null || content === '') {
      td.appendChild(el('span', { className: 'hb-muted', text: '\u2014' }));
    } else {
      td.appendChild(el('div', { className: 'hb-cell' }, content));
    }
    return td;
  }

  /* ------------------------------------------------------------------ list */

  async function loadSites() {
    showBox('sites-error', '');
    try {
      var answer = await HB.api('/bridge/sites');
      var list = answer && Array.isArray(answer.sites) ? answer.sites : [];
      sites = list.filter(function (s) { return s !== null && typeof s === 'object'; });
      // This site first (the server lists it first too), the others in the server's order.
      sites = sites.filter(function (s) { return s.local === true; })
        .concat(sites.filter(function (s) { return s.local !== true; }));
      render();
    } catch (e) {
      byId('sites-summary').textContent = '';
      showBox('sites-error', 'Could not load the sites: ' + HB.describeError(e));
    }
  }

  function render() {
    var body = HB.clear(byId('sites-body'));
    byId('actions-head').hidden = !isAdmin;
    sites.forEach(function (site) { body.appendChild(siteRow(site)); });
    byId('sites-wrap').hidden = sites.length === 0;
    byId('sites-empty').hidden = sites.length !== 0;
    var others = sites.filter(function (s) { return s.local !== true; }).length;
    var peers = sites.filter(function (s) { return s.local !== true && s.orthanc_peer; }).length;
    byId('sites-summary').textContent = others === 0
      ? 'No other hospital is registered yet.'
      : HB.formatNumber(others) + (others === 1 ? ' other hospital' : ' other hospitals') + ', ' +
        HB.formatNumber(peers) + ' reachable for federation search';
  }

  function siteRow(site) {
    var local = site.local === true;
    var name = [el('span', { className: 'hb-strong', text: str(site.name) || str(site.id) })];
    name.push(el('span', { className: 'hb-subtext hb-id', text: str(site.id) }));
    if (local) name.push(el('span', { className: 'hb-chip hb-chip-local', text: 'this site' }));
    var peer = site.orthanc_peer ? el('span', { className: 'hb-id', text: str(site.orthanc_peer) })
      : (local ? '' : el('span', { className: 'hb-muted', text: 'none (not searched)' }));
    var added = local ? el('span', { className: 'hb-muted', text: 'orthanc.json' })
      : (site.created_at ? el('time', { text: HB.formatDateTime(site.created_at), attrs: { datetime: str(site.created_at) } }) : '');
    var cells = [
      cell('Site', name),
      cell('Address', str(site.address)),
      cell('Phone', str(site.phone), 'hb-nowrap'),
      cell('Email', str(site.email)),
      cell('Orthanc peer', peer),
      cell('Added', added, 'hb-nowrap')
    ];
    if (isAdmin) {
      var actions;
      if (local) {
        actions = el('span', { className: 'hb-muted', text: 'Set in the configuration' });
      } else {
        var edit = el('button', { className: 'hb-button hb-button-small', text: 'Edit', attrs: { type: 'button' } });
        var remove = el('button', { className: 'hb-button hb-button-small', text: 'Remove', attrs: { type: 'button' } });
        edit.addEventListener('click', function () { openForm(site); });
        remove.addEventListener('click', function () { removeSite(site, remove); });
        actions = el('div', { className: 'hb-actions hb-no-print' }, [edit, remove]);
      }
      cells.push(cell('Actions', actions, 'hb-nowrap'));
    }
    return el('tr', { className: local ? 'hb-row-local' : '' }, cells);
  }

  /* ------------------------------------------------------------------ form */

  function clearInvalid() {
    FIELDS.forEach(function (f) { input(f).removeAttribute('aria-invalid'); });
  }

  function openForm(site) {
    var card = byId('site-card');
    var toggle = byId('add-toggle');
    editingId = site ? str(site.id) : null;
    clearInvalid();
    setMessage('');
    FIELDS.forEach(function (f) { input(f).value = site ? str(site[f]) : ''; });
    input('id').readOnly = !!site;
    byId('site-id-hint').hidden = !!site;
    byId('site-form-heading').textContent = site ? 'Edit site ' + str(site.id) : 'Add a site';
    byId('site-submit').textContent = site ? 'Save changes' : 'Add site';
    card.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
    card.scrollIntoView({ block: 'nearest' });
    (site ? input('name') : input('id')).focus();
  }

  function closeForm() {
    byId('site-card').hidden = true;
    byId('add-toggle').setAttribute('aria-expanded', 'false');
    editingId = null;
    setMessage('');
  }

  function markFromDetail(detail) {
    var text = str(detail).toLowerCase();
    if (text.indexOf('peer') !== -1) input('orthanc_peer').setAttribute('aria-invalid', 'true');
    else if (/\bid\b/.test(text) && !editingId) input('id').setAttribute('aria-invalid', 'true');
    else if (text.indexOf('name') !== -1) input('name').setAttribute('aria-invalid', 'true');
    else if (text.indexOf('email') !== -1) input('email').setAttribute('aria-invalid', 'true');
  }

  async function submitForm(event) {
    event.preventDefault();
    clearInvalid();
    var body = {};
    FIELDS.forEach(function (f) { body[f] = input(f).value.trim(); });
    if (!editingId && !SITE_ID.test(body.id)) {
      setMessage('The site ID must be 1 to 32 letters, digits, "-" or "_".', 'error');
      input('id').setAttribute('aria-invalid', 'true');
      input('id').focus();
      return;
    }
    if (!body.name) {
      setMessage('Enter the name of the site.', 'error');
      input('name').setAttribute('aria-invalid', 'true');
      input('name').focus();
      return;
    }
    var submit = byId('site-submit');
    submit.disabled = true;
    setMessage(editingId ? 'Saving\u2026' : 'Adding\u2026');
    try {
      var saved;
      if (editingId) {
        delete body.id;
        saved = await HB.api('/bridge/sites/' + encodeURIComponent(editingId), { method: 'PUT', body: body });
      } else {
        saved = await HB.api('/bridge/sites', { method: 'POST', body: body });
      }
      var label = str(saved && saved.name ? saved.name : body.name);
      var notice = (editingId ? 'Saved ' : 'Added ') + label + '.';
      closeForm();
      showBox('sites-notice', notice);
      await loadSites();
    } catch (e) {
      var text;
      if (e.status === 409) {
        text = 'Not saved: a site with this ID already exists' + (e.detail ? ' (' + e.detail + ')' : '') + '.';
        input('id').setAttribute('aria-invalid', 'true');
      } else if (e.status === 400) {
        text = 'Not saved: ' + e.message + (e.detail ? ' \u2014 ' + e.detail : '');
        markFromDetail(e.detail);
      } else if (e.status === 403) {
        text = 'Not saved: only an administrator can change the sites.';
      } else {
        text = 'Not saved: ' + HB.describeError(e);
      }
      setMessage(text, 'error');
    }
    submit.disabled = false;
  }

  async function removeSite(site, button) {
    showBox('sites-notice', '');
    var ok = await HB.confirmDialog({
      title: 'Remove this site?',
      body: [
        el('p', {}, [el('strong', { text: str(site.name) || str(site.id) }), ' (', el('span', { className: 'hb-id', text: str(site.id) }), ')']),
        el('p', { className: 'hb-muted', text: 'It will no longer be asked in federation searches. Studies already ' +
          'retrieved from it stay here. You can add it again later.' })
      ],
      confirmLabel: 'Remove',
      danger: true
    });
    if (!ok) return;
    button.disabled = true;
    try {
      await HB.api('/bridge/sites/' + encodeURIComponent(str(site.id)), { method: 'DELETE' });
      if (editingId === str(site.id)) closeForm();
      showBox('sites-notice', 'Removed ' + (str(site.name) || str(site.id)) + '.');
      await loadSites();
    } catch (e) {
      button.disabled = false;
      showBox('sites-error', 'Could not remove ' + str(site.id) + ': ' + HB.describeError(e));
    }
  }

  async function loadPeerNames() {
    try {
      var peers = await HB.api('/peers');
      var list = byId('peer-names');
      HB.clear(list);
      (Array.isArray(peers) ? peers : []).forEach(function (name) {
        if (typeof name === 'string') list.appendChild(el('option', { attrs: { value: name } }));
      });
    } catch (e) {
      /* suggestions only */
    }
  }

  /* ----------------------------------------------------------------- start */

  byId('site-form').addEventListener('submit', submitForm);
  byId('site-cancel').addEventListener('click', function () {
    closeForm();
    byId('add-toggle').focus();
  });
  byId('add-toggle').addEventListener('click', function () {
    if (!byId('site-card').hidden && editingId === null) closeForm();
    else openForm(null);
  });

  HB.initLayout({ page: 'sites', title: 'Sites' }).then(function (system) {
    isAdmin = !!(system && system.user && system.user.role === 'admin');
    byId('add-toggle').hidden = !isAdmin;
    byId('readonly-note').hidden = isAdmin;
    if (isAdmin) loadPeerNames();
    if (sites.length) render();
  }, function (e) {
    showBox('sites-error', 'Could not load the session: ' + HB.describeError(e));
  });
  loadSites();
})();
