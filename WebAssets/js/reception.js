/*
 * Reception: print slips with a QR code so patients get their images on their phone.
 *   GET  /bridge/shares/pending                      slips waiting to print (auto-share queue)
 *   GET  /bridge/studies?received_from=<today>       today's studies (or ?q= for any date)
 *   POST /bridge/shares                              create a link → opens its slip, shows the PIN once
 *   GET  /bridge/shares?status=&q=&limit=50          recent links
 *   POST /bridge/shares/{id}/revoke {reason} | /unlock | /reprint
 * Everything refreshes every 15 s. "#share=<Orthanc study ID>" in the address (the "Share (QR)"
 * button of Orthanc Explorer) opens the create dialog for that study at once.
 * Server and DICOM strings reach the DOM only via textContent / HB.el (see app.js).
 */
(function () {
  'use strict';

  var REFRESH_MS = 15000;
  var STUDY_LIMIT = 100;
  var SHARE_LIMIT = 50;
  var ORTHANC_ID = /^[0-9a-f]{8}(-[0-9a-f]{8}){4}$/i;
  var FORMAT_KEY = 'hb.reception.slipFormat';

  var el = HB.el;
  var setText = HB.setText;

  var STATUS_LABELS = {
    active: 'Active', revoked: 'Revoked', expired: 'Expired', locked: 'Locked', 'used-up': 'Used up'
  };
  var STATUS_TONES = { active: 'ok', locked: 'warn', revoked: 'error', expired: '', 'used-up': '' };
  var FACTOR_LABELS = { pin: 'PIN', 'birth-date': 'Date of birth', none: 'Nothing else' };

  var state = {
    search: '',            // '' = today's studies
    sharesStatus: 'all',
    sharesQuery: '',
    lastSuccess: null,
    paused: false,
    system: null,
    creating: null         // the study record the create dialog is for
  };
  var poller = null;

  /* ------------------------------------------------------------------ helpers */

  function todayLocal() {
    var d = new Date();
    var mm = String(d.getMonth() + 1);
    var dd = String(d.getDate());
    return d.getFullYear() + '-' + (mm.length < 2 ? '0' + mm : mm) + '-' + (dd.length < 2 ? '0' + dd : dd);
  }

  function str(value) {
    return (value === undefined || value === null) ? '' : String(value);
  }

  function cell(label, content, className) {
    var td = el('td', { className: className || '', attrs: { 'data-label': label } });
    if (content === undefined || content === null || content === '' ||
        (Array.isArray(content) && content.filter(Boolean).length === 0)) {
      td.appendChild(el('span', { className: 'hb-muted', text: '\u2014' }));
    } else {
      HB.appendChildren(td, content);
    }
    return td;
  }

  function badge(text, tone, title) {
    return el('span', {
      className: 'hb-badge hb-badge-small' + (tone ? ' hb-badge-' + tone : ''),
      text: text,
      attrs: { title: title || null }
    });
  }

  function showAlert(id, message) {
    var box = document.getElementById(id);
    box.textContent = message || '';
    box.hidden = !message;
  }

  function patientName(raw) {
    return HB.formatPatientName(raw) || '';
  }

  function timeOnly(iso) {
    if (!iso) return '';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  }

  function dateOnly(iso) {
    if (!iso) return '';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
  }

  function slipFormat() {
    return document.getElementById('slip-format').value === 'receipt' ? 'receipt' : 'a6';
  }

  // "/bridge/shares/12/slip" → same path with the chosen paper and "#print" (slip.js prints at once).
  function slipUrl(path, autoPrint) {
    if (typeof path !== 'string' || path.indexOf('/bridge/shares/') !== 0 || !HB.isSafeUrl(path)) return '';
    var url = new URL(path, window.location.origin);
    url.searchParams.set('format', slipFormat());
    return url.pathname + url.search + (autoPrint ? '#print' : '');
  }

  function slipPathFor(share) {
    return '/bridge/shares/' + encodeURIComponent(str(share.id)) + '/slip';
  }

  // Opens the slip in a new tab. Returns false when the browser blocked it.
  function openSlip(path) {
    var url = slipUrl(path, true);
    if (!url) return false;
    var win = window.open(url, '_blank');
    if (!win) return false;
    try { win.opener = null; } catch (e) { /* cross-origin: fine */ }
    return true;
  }

  function studyLine(study) {
    if (!study) return '';
    var parts = [];
    if (study.date) parts.push(str(study.date));
    var modalities = Array.isArray(study.modalities) ? study.modalities.filter(Boolean).join(', ') : '';
    if (modalities) parts.push(modalities);
    if (study.description) parts.push(str(study.description));
    return parts.join(' \u00b7 ');
  }

  function shareStudies(share) {
    var studies = Array.isArray(share.studies) ? share.studies.filter(function (s) { return s && typeof s === 'object'; }) : [];
    var nodes = [];
    if (studies.length === 0) return nodes;
    nodes.push(el('span', { text: studyLine(studies[0]) || 'Study' }));
    if (studies.length > 1) {
      nodes.push(el('span', { className: 'hb-subtext', text: '+ ' + (studies.length - 1) + ' more ' + (studies.length === 2 ? 'study' : 'studies') }));
    }
    return nodes;
  }

  function patientCell(name, id) {
    return [
      el('span', { className: name ? '' : 'hb-muted', text: name || 'No name' }),
      id ? el('span', { className: 'hb-subtext hb-id', text: id }) : null
    ];
  }

  function settle(promise) {
    return promise.then(function (value) { return { ok: true, value: value }; },
      function (error) { return { ok: false, error: error }; });
  }

  /* ----------------------------------------------------------- pending slips */

  function pendingRow(share) {
    var print = el('button', {
      className: 'hb-button hb-button-primary hb-button-small',
      text: 'Print',
      attrs: { type: 'button', title: 'Open the slip in a new tab and print it' }
    });
    print.addEventListener('click', function () {
      if (!openSlip(slipPathFor(share))) {
        showAlert('page-error', 'The browser blocked the new tab. Allow pop-ups for this site, or open the slip from Recent shares.');
      }
    });
    var created = el('time', {
      text: HB.formatDateTime(share.created_at),
      attrs: { datetime: share.created_at ? str(share.created_at) : null }
    });
    return el('tr', {}, [
      cell('Created', [created, share.auto ? el('span', { className: 'hb-subtext', text: 'Automatic' }) : null], 'hb-nowrap'),
      cell('Patient', patientName(share.patient_name), 'hb-strong'),
      cell('Patient ID', share.patient_id ? el('span', { className: 'hb-id', text: str(share.patient_id) }) : ''),
      cell('Study', shareStudies(share)),
      cell('Expires', dateOnly(share.expires_at), 'hb-nowrap'),
      cell('Actions', el('div', { className: 'hb-actions' }, [print]), 'hb-action-cell')
    ]);
  }

  function renderPending(result) {
    var shares = result && Array.isArray(result.shares) ? result.shares.filter(function (s) { return s && typeof s === 'object'; }) : [];
    var body = HB.clear(document.getElementById('pending-body'));
    shares.forEach(function (share) { body.appendChild(pendingRow(share)); });
    document.getElementById('pending-wrap').hidden = shares.length === 0;
    document.getElementById('pending-empty').hidden = shares.length !== 0;
    document.getElementById('pending-heading').textContent =
      'Slips waiting to print' + (shares.length ? ' (' + shares.length + ')' : '');
  }

  /* --------------------------------------------------------------- studies */

  function studyRow(study) {
    var name = patientName(study.patient_name);
    var modalities = Array.isArray(study.modalities) ? study.modalities.filter(Boolean).join(', ') : '';
    var when;
    if (state.search) {
      when = HB.formatStudyDate(study.study_date, study.study_time);
    } else {
      when = el('time', {
        text: timeOnly(study.first_received || study.last_received),
        attrs: {
          datetime: study.first_received ? str(study.first_received) : null,
          title: study.study_date ? 'Study date ' + HB.formatStudyDate(study.study_date, study.study_time) : null
        }
      });
    }
    var create = el('button', {
      className: 'hb-button hb-button-small',
      text: 'Create and print slip',
      attrs: { type: 'button' }
    });
    create.addEventListener('click', function () { openCreate(study); });
    var restricted = study.restricted && typeof study.restricted === 'object' && study.restricted.share === true;
    return el('tr', {}, [
      cell(state.search ? 'Study date' : 'Received', when, 'hb-nowrap'),
      cell('Patient', name ? name : el('span', { className: 'hb-muted', text: 'No name' }), 'hb-strong'),
      cell('Patient ID', study.patient_id ? el('span', { className: 'hb-id', text: str(study.patient_id) }) : ''),
      cell('Modality', modalities),
      cell('Description', study.description ? str(study.description) : ''),
      cell('Images', HB.formatNumber(study.instance_count), 'hb-num'),
      cell('Actions', el('div', { className: 'hb-job' }, [
        create,
        restricted ? badge('No sharing consent', 'warn', 'The patient has not agreed to sharing: ask before creating a link') : null
      ]), 'hb-action-cell')
    ]);
  }

  function renderStudies(result) {
    var studies = result && Array.isArray(result.studies) ? result.studies.filter(function (s) { return s && typeof s === 'object'; }) : [];
    var total = result && typeof result.total === 'number' ? result.total : studies.length;
    var body = HB.clear(document.getElementById('studies-body'));
    studies.forEach(function (study) { body.appendChild(studyRow(study)); });
    var empty = document.getElementById('studies-empty');
    document.getElementById('studies-wrap').hidden = studies.length === 0;
    empty.hidden = studies.length !== 0;
    empty.textContent = state.search
      ? 'No study matches \u201c' + state.search + '\u201d.'
      : 'No studies received today yet. Search above for older ones.';
    document.getElementById('studies-heading').textContent = state.search ? 'Search results' : 'Today\u2019s studies';
    document.getElementById('studies-time-head').textContent = state.search ? 'Study date' : 'Received';
    document.getElementById('studies-caption').textContent = state.search
      ? 'Studies matching the search' : 'Studies received today, newest first';
    document.getElementById('studies-summary').textContent = studies.length === 0 ? '' :
      (studies.length < total ? 'Showing ' + HB.formatNumber(studies.length) + ' of ' + HB.formatNumber(total)
        : HB.formatNumber(total) + (total === 1 ? ' study' : ' studies'));
  }

  function loadStudies() {
    var query = { limit: STUDY_LIMIT };
    if (state.search) query.q = state.search;
    else query.received_from = todayLocal();
    return HB.api('/bridge/studies', { query: query });
  }

  /* ---------------------------------------------------------------- shares */

  function statusCell(share) {
    var status = str(share.status);
    var nodes = [badge(STATUS_LABELS[status] || status || '?', STATUS_TONES[status] || '')];
    if (share.slip_pending && status === 'active') nodes.push(' ', badge('Slip not printed', 'info'));
    if (share.auto) nodes.push(el('span', { className: 'hb-subtext', text: 'Made automatically' }));
    if (status === 'revoked') {
      var why = str(share.revoke_reason);
      var by = str(share.revoked_by);
      nodes.push(el('span', {
        className: 'hb-subtext',
        text: [why, by ? 'by ' + by : '', share.revoked_at ? HB.formatDateTime(share.revoked_at) : ''].filter(Boolean).join(' \u00b7 ')
      }));
    }
    if (status === 'locked') {
      nodes.push(el('span', { className: 'hb-subtext hb-text-warn', text: 'Too many wrong attempts' + (share.locked_at ? ' \u00b7 ' + HB.formatDateTime(share.locked_at) : '') }));
    }
    if (share.replaced_by !== undefined && share.replaced_by !== null && !share.revoke_reason) {
      nodes.push(el('span', { className: 'hb-subtext', text: 'Replaced by #' + str(share.replaced_by) }));
    }
    return nodes;
  }

  function usesCell(share) {
    var uses = HB.formatNumber(share.uses || 0);
    var text = share.max_uses !== undefined && share.max_uses !== null ? uses + ' / ' + HB.formatNumber(share.max_uses) : uses;
    var nodes = [el('span', { text: text })];
    if (share.failed_attempts) {
      nodes.push(el('span', { className: 'hb-subtext hb-text-warn', text: HB.formatNumber(share.failed_attempts) + ' wrong' }));
    }
    if (share.last_used_at) nodes.push(el('span', { className: 'hb-subtext', text: 'Last ' + HB.formatDateTime(share.last_used_at) }));
    return nodes;
  }

  function actionButton(text, tone, handler, title) {
    var button = el('button', {
      className: 'hb-button hb-button-small hb-nowrap' + (tone ? ' hb-button-' + tone : ''),
      text: text,
      attrs: { type: 'button', title: title || null }
    });
    button.addEventListener('click', function () { handler(button); });
    return button;
  }

  function shareRow(share) {
    var status = str(share.status);
    var actions = [];
    if (share.slip_pending && status === 'active') {
      actions.push(actionButton('Print slip', 'primary', function () {
        if (!openSlip(slipPathFor(share))) showAlert('page-error', 'The browser blocked the new tab. Allow pop-ups for this site.');
      }));
    }
    if (status === 'locked') actions.push(actionButton('Unlock', 'primary', function (b) { unlockShare(share, b); }, 'Allow the patient to try again'));
    if (status !== 'revoked' && (share.replaced_by === undefined || share.replaced_by === null)) {
      actions.push(actionButton('Reprint', '', function (b) { reprintShare(share, b); }, 'New slip with a new QR code and PIN; this link stops working'));
    }
    if (status === 'active' || status === 'locked') actions.push(actionButton('Revoke', 'danger', function () { openRevoke(share); }));

    var created = [el('time', { text: HB.formatDateTime(share.created_at), attrs: { datetime: share.created_at ? str(share.created_at) : null } }),
      el('span', { className: 'hb-subtext', text: '#' + str(share.id) + (share.created_by ? ' \u00b7 ' + str(share.created_by) : '') })];
    var studies = shareStudies(share);
    if (share.scope === 'patient') studies.push(el('span', { className: 'hb-subtext', text: 'All of the patient\u2019s studies' }));
    if (share.note) studies.push(el('span', { className: 'hb-subtext', text: 'Note: ' + str(share.note) }));
    var perms = Array.isArray(share.permissions) ? share.permissions : [];
    var factor = [el('span', { text: FACTOR_LABELS[share.second_factor] || str(share.second_factor) })];
    if (perms.indexOf('download') === -1) factor.push(el('span', { className: 'hb-subtext', text: 'View only' }));

    return el('tr', { className: status === 'locked' ? 'hb-row-warn' : '' }, [
      cell('Created', created),
      cell('Patient', patientCell(patientName(share.patient_name), str(share.patient_id)), 'hb-strong'),
      cell('Studies', studies),
      cell('Status', statusCell(share)),
      cell('Expires', dateOnly(share.expires_at), 'hb-nowrap'),
      cell('Unlock', factor),
      cell('Uses', usesCell(share), 'hb-num'),
      cell('Actions', actions.length ? el('div', { className: 'hb-form-actions' }, actions) : '', 'hb-action-cell')
    ]);
  }

  function renderShares(result) {
    var shares = result && Array.isArray(result.shares) ? result.shares.filter(function (s) { return s && typeof s === 'object'; }) : [];
    var total = result && typeof result.total === 'number' ? result.total : shares.length;
    var body = HB.clear(document.getElementById('shares-body'));
    shares.forEach(function (share) { body.appendChild(shareRow(share)); });
    document.getElementById('shares-wrap').hidden = shares.length === 0;
    var empty = document.getElementById('shares-empty');
    empty.hidden = shares.length !== 0;
    empty.textContent = (state.sharesStatus !== 'all' || state.sharesQuery) ? 'No share link matches this filter.' : 'No share links yet.';
    document.getElementById('shares-summary').textContent = shares.length === 0 ? '' :
      (shares.length < total ? 'Newest ' + HB.formatNumber(shares.length) + ' of ' + HB.formatNumber(total) : HB.formatNumber(total) + (total === 1 ? ' link' : ' links'));
  }

  function loadShares() {
    return HB.api('/bridge/shares', {
      query: { status: state.sharesStatus, q: state.sharesQuery, limit: SHARE_LIMIT }
    });
  }

  /* --------------------------------------------------------------- refresh */

  function showStatus() {
    var text;
    if (state.paused) text = 'Auto-refresh paused after 10 minutes without activity. Press a key or click to resume.';
    else if (state.lastSuccess) text = 'Updated ' + HB.formatTime(state.lastSuccess) + ' \u00b7 refreshes every 15 s';
    else text = 'Not loaded';
    document.getElementById('refresh-status').textContent = text;
  }

  function renderSystem(system) {
    state.system = system;
    var shares = system && system.shares && typeof system.shares === 'object' ? system.shares : null;
    var warning = '';
        if (shares && shares.enabled === false) {
      warning = 'Share links are switched off on this server (configuration "Shares"). Ask your administrator.';
    } else if (shares && !shares.public_base_url && /^(localhost|127\.|\[::1\])/.test(window.location.host)) {
      // The QR codes carry the address this page was opened at: a phone cannot open "localhost".
      warning = 'The QR codes will point to ' + window.location.host + ', this computer\u2019s own address, which ' +
        'patients\u2019 phones cannot open. Open this page through the server\u2019s network name, or ask your ' +
        'administrator to set Shares.PublicBaseUrl.';
    }
    showAlert('page-warning', warning);
  }

  async function refresh() {
    var results = await Promise.all([
      settle(HB.api('/bridge/shares/pending')),
      settle(loadStudies()),
      settle(loadShares())
    ]);
    var problems = [];
    if (results[0].ok) renderPending(results[0].value); else problems.push('slips waiting: ' + HB.describeError(results[0].error));
    if (results[1].ok) renderStudies(results[1].value); else problems.push('studies: ' + HB.describeError(results[1].error));
    if (results[2].ok) renderShares(results[2].value); else problems.push('recent shares: ' + HB.describeError(results[2].error));
    if (problems.length === 0) {
      state.lastSuccess = new Date();
      showAlert('page-error', '');
    } else {
      var message = 'Could not load ' + problems.join('; ') + '.';
      if (state.lastSuccess) message += ' Showing data from ' + HB.formatTime(state.lastSuccess) + '.';
      showAlert('page-error', message);
    }
    showStatus();
  }

  function refreshNow() {
    if (poller) poller.refreshNow(); else refresh();
  }

  /* --------------------------------------------------------- create dialog */

  var createDialog = document.getElementById('create-dialog');
  var createForm = document.getElementById('create-form');

  function radioValue(name) {
    var checked = createForm.querySelector('input[name="' + name + '"]:checked');
    return checked ? checked.value : '';
  }

  function setRadio(name, value) {
    Array.prototype.forEach.call(createForm.querySelectorAll('input[name="' + name + '"]'), function (input) {
      input.checked = input.value === value;
    });
  }

  function showConsent(message) {
    document.getElementById('consent-message').textContent = message || '';
    document.getElementById('consent-box').hidden = false;
  }

  function openDialog(dialog) {
    if (typeof dialog.showModal === 'function') {
      if (!dialog.open) dialog.showModal();
    } else {
      dialog.setAttribute('open', '');
    }
  }

  function closeDialog(dialog) {
    if (typeof dialog.close === 'function') { if (dialog.open) dialog.close(); } else dialog.removeAttribute('open');
  }

  // study: a /bridge/studies record (orthanc_id, patient_id, patient_name, patient_birth_date,
  // study_date, study_time, description, modalities, restricted).
  function openCreate(study) {
    state.creating = study;
    createForm.hidden = false;
    document.getElementById('create-result').hidden = true;
    createForm.reset();
    setRadio('scope', 'study');
    setRadio('second_factor', 'pin');
    document.getElementById('valid-days').value = '30';
    document.getElementById('create-error').hidden = true;
    document.getElementById('consent-box').hidden = true;
    document.getElementById('consent-attested').checked = false;

    var name = patientName(study.patient_name);
    var who = el('span', {}, [el('span', { text: name || 'No name' }),
      study.patient_id ? el('span', { className: 'hb-subtext hb-id', text: 'ID ' + str(study.patient_id) }) : null]);
    HB.appendChildren(HB.clear(document.getElementById('create-patient')), who);
    var modalities = Array.isArray(study.modalities) ? study.modalities.filter(Boolean).join(', ') : '';
    setText('create-study', [HB.formatStudyDate(study.study_date, study.study_time), modalities, str(study.description)]
      .filter(Boolean).join(' \u00b7 '));

    var scopePatient = document.getElementById('scope-patient');
    scopePatient.disabled = !study.patient_id;

    var hasBirthDate = !!str(study.patient_birth_date);
    document.getElementById('factor-birth-date').disabled = !hasBirthDate;
    document.getElementById('factor-birth-date-note').hidden = hasBirthDate;

    if (study.restricted && typeof study.restricted === 'object' && study.restricted.share === true) {
      showConsent('This patient\u2019s consent record does not allow sharing. Ask the patient now; tick the box only if they agree.');
    }
    var submit = document.getElementById('create-submit');
    submit.disabled = false;
    submit.textContent = 'Create and print slip';
    openDialog(createDialog);
    document.getElementById('scope-study').focus();
    createDialog.scrollTop = 0;
  }

  function readCreateForm() {
    var study = state.creating;
    var body = {};
    if (radioValue('scope') === 'patient') body.patient_id = str(study.patient_id);
    else body.study = str(study.orthanc_id || study.study_uid);

    var daysText = document.getElementById('valid-days').value.trim();
    var days = Number(daysText);
    if (!/^[0-9]{1,4}$/.test(daysText) || days < 1) throw new Error('Enter the number of days the link is valid (1 or more).');
    body.valid_days = days;

    body.second_factor = radioValue('second_factor') || 'pin';
    body.permissions = document.getElementById('perm-download').checked ? ['view', 'download'] : ['view'];

    var usesText = document.getElementById('max-uses').value.trim();
    if (usesText) {
      var uses = Number(usesText);
      if (!/^[0-9]{1,4}$/.test(usesText) || uses < 1 || uses > 1000) throw new Error('Maximum uses must be between 1 and 1000, or empty for no limit.');
      body.max_uses = uses;
    } else {
      body.max_uses = null;
    }
    if (!document.getElementById('consent-box').hidden) {
      body.consent_attested = document.getElementById('consent-attested').checked;
    }
    var note = document.getElementById('share-note').value.trim();
    if (note) body.note = note;
    return body;
  }

  async function submitCreate(event) {
    event.preventDefault();
    var errorBox = document.getElementById('create-error');
    errorBox.hidden = true;
    var body;
    try {
      body = readCreateForm();
    } catch (e) {
      errorBox.textContent = e.message;
      errorBox.hidden = false;
      return;
    }
    var consentShown = !document.getElementById('consent-box').hidden;
    if (consentShown && !body.consent_attested) {
      errorBox.textContent = 'Tick \u201cThe patient agreed to sharing today\u201d if the patient agrees, or cancel.';
      errorBox.hidden = false;
      document.getElementById('consent-attested').focus();
      return;
    }
    var submit = document.getElementById('create-submit');
    submit.disabled = true;
    submit.textContent = 'Creating\u2026';
    try {
      var answer = await HB.api('/bridge/shares', { method: 'POST', body: body });
      showResult(answer, 'created');
      refreshNow();
    } catch (e) {
      if (e.status === 409) {
        showConsent(HB.describeError(e));
        document.getElementById('consent-attested').focus();
      } else {
        errorBox.textContent = HB.describeError(e);
        errorBox.hidden = false;
      }
    } finally {
      submit.disabled = false;
      submit.textContent = 'Create and print slip';
    }
  }

  // answer: {share, token, pin, url, slip, ...} of POST /bridge/shares or /reprint.
  function showResult(answer, how) {
    var share = answer && answer.share && typeof answer.share === 'object' ? answer.share : {};
    var slipPath = answer && typeof answer.slip === 'string' ? answer.slip : slipPathFor(share);
    var opened = openSlip(slipPath);

    createForm.hidden = true;
    document.getElementById('create-result').hidden = false;
    var name = patientName(share.patient_name);
    setText('result-message', (how === 'reprinted' ? 'New slip #' : 'Link #') + str(share.id) + ' made for ' +
      (name || 'the patient') + (how === 'reprinted' ? '; the previous link no longer works. ' : '. ') +
      (opened ? 'The slip opened in a new tab: print it and give it to the patient.' : ''));
    document.getElementById('result-blocked').hidden = opened;

    var pin = answer && typeof answer.pin === 'string' ? answer.pin : '';
    document.getElementById('result-pin-box').hidden = !pin;
    setText('result-pin', pin);
    setText('result-factor', FACTOR_LABELS[share.second_factor] || str(share.second_factor));
    setText('result-expires', HB.formatDateTime(share.expires_at));

    var link = document.getElementById('result-slip');
    var href = slipUrl(slipPath, false);
    if (href) { HB.setAttr(link, 'href', href); link.hidden = false; } else { link.hidden = true; }
    link.className = 'hb-button' + (opened ? '' : ' hb-button-primary');
    openDialog(createDialog);
    (opened || link.hidden ? document.getElementById('result-close') : link).focus();
  }

  function closeCreate() {
    closeDialog(createDialog);
    state.creating = null;
    setText('result-pin', '');   // the PIN is not left on screen
  }

  /* ------------------------------------------------ revoke, unlock, reprint */

  var revokeDialog = document.getElementById('revoke-dialog');
  var revoking = null;

  function openRevoke(share) {
    revoking = share;
    document.getElementById('revoke-form').reset();
    document.getElementById('revoke-error').textContent = '';
    var name = patientName(share.patient_name);
    setText('revoke-who', 'Link #' + str(share.id) + ' for ' + (name || 'this patient') +
      (share.patient_id ? ' (ID ' + str(share.patient_id) + ')' : '') + '.');
    document.getElementById('revoke-submit').disabled = false;
    openDialog(revokeDialog);
    document.getElementById('revoke-reason').focus();
  }

  async function submitRevoke(event) {
    event.preventDefault();
    if (!revoking) return;
    var reason = document.getElementById('revoke-reason').value.trim();
    var errorNode = document.getElementById('revoke-error');
    if (!reason) {
      errorNode.textContent = 'Give a reason (it is kept in the audit trail).';
      document.getElementById('revoke-reason').focus();
      return;
    }
    var submit = document.getElementById('revoke-submit');
    submit.disabled = true;
    try {
      await HB.api('/bridge/shares/' + encodeURIComponent(str(revoking.id)) + '/revoke', { method: 'POST', body: { reason: reason } });
      closeDialog(revokeDialog);
      revoking = null;
      refreshNow();
    } catch (e) {
      errorNode.textContent = 'Could not revoke: ' + HB.describeError(e);
      submit.disabled = false;
    }
  }

  async function unlockShare(share, button) {
    var name = patientName(share.patient_name);
    var ok = await HB.confirmDialog({
      title: 'Unlock this link?',
      body: [el('p', { text: 'Link #' + str(share.id) + ' for ' + (name || 'this patient') + ' was locked after too many wrong PINs or birth dates.' }),
        el('p', { text: 'Check that the person asking is the patient (or may act for them) before unlocking.' })],
      confirmLabel: 'Unlock'
    });
    if (!ok) return;
    button.disabled = true;
    try {
      await HB.api('/bridge/shares/' + encodeURIComponent(str(share.id)) + '/unlock', { method: 'POST' });
      refreshNow();
    } catch (e) {
      button.disabled = false;
      showAlert('page-error', 'Could not unlock link #' + str(share.id) + ': ' + HB.describeError(e));
    }
  }

  async function reprintShare(share, button) {
    var name = patientName(share.patient_name);
    var ok = await HB.confirmDialog({
      title: 'Print a new slip?',
      body: [el('p', { text: 'A new link with a new QR code and PIN is made for ' + (name || 'this patient') + ', with the same studies and options.' }),
        el('p', { text: 'Link #' + str(share.id) + ' and any slip printed for it stop working.' })],
      confirmLabel: 'Make a new slip'
    });
    if (!ok) return;
    button.disabled = true;
    var options = { method: 'POST' };
    for (var attempt = 0; attempt < 2; attempt++) {
      try {
        var answer = await HB.api('/bridge/shares/' + encodeURIComponent(str(share.id)) + '/reprint', options);
        state.creating = null;
        showResult(answer, 'reprinted');
        refreshNow();
        return;
      } catch (e) {
        if (e.status === 409 && attempt === 0) {
          var agreed = await HB.confirmDialog({
            title: 'Consent required',
            body: [el('p', { text: HB.describeError(e) }), el('p', { text: 'Did the patient agree to sharing today?' })],
            confirmLabel: 'The patient agreed today'
          });
          if (agreed) { options.body = { consent_attested: true }; continue; }
        } else {
          showAlert('page-error', 'Could not reprint link #' + str(share.id) + ': ' + HB.describeError(e));
        }
        break;
      }
    }
    button.disabled = false;
  }

  /* ------------------------------------------- "#share=<Orthanc study ID>" */

  // The study as /bridge/studies gives it; read from Orthanc when the index does not have it yet.
  async function studyForOrthancId(orthancId) {
    var study = await HB.api('/studies/' + encodeURIComponent(orthancId));
    var tags = study && study.MainDicomTags ? study.MainDicomTags : {};
    var patient = study && study.PatientMainDicomTags ? study.PatientMainDicomTags : {};
    var uid = str(tags.StudyInstanceUID);
    if (uid) {
      try {
        var record = await HB.api('/bridge/studies/' + encodeURIComponent(uid));
        if (record && typeof record === 'object') {
          if (!record.orthanc_id) record.orthanc_id = orthancId;
          return record;
        }
      } catch (e) {
        if (e.status !== 404) throw e;
      }
    }
    function dicomDate(value) {
      var m = /^(\d{4})(\d{2})(\d{2})$/.exec(str(value));
      return m ? m[1] + '-' + m[2] + '-' + m[3] : str(value);
    }
    return {
      orthanc_id: orthancId,
      study_uid: uid,
      patient_id: str(patient.PatientID),
      patient_name: str(patient.PatientName),
      patient_birth_date: dicomDate(patient.PatientBirthDate),
      study_date: dicomDate(tags.StudyDate),
      study_time: '',
      description: str(tags.StudyDescription),
      modalities: []
    };
  }

  async function openFromHash() {
    var match = /^#share=([0-9a-fA-F-]+)$/.exec(window.location.hash || '');
    if (!match) return;
    try {
      history.replaceState(null, '', window.location.pathname + window.location.search);
    } catch (e) { /* keep it */ }
    var orthancId = match[1];
    if (!ORTHANC_ID.test(orthancId)) {
      showAlert('page-error', 'The address does not name a valid Orthanc study.');
      return;
    }
    try {
      openCreate(await studyForOrthancId(orthancId));
    } catch (e) {
      showAlert('page-error', e.status === 404 ? 'Orthanc has no study ' + orthancId + '.'
        : 'Could not open the study to share: ' + HB.describeError(e));
    }
  }

  /* ------------------------------------------------------------------ start */

  function bind() {
    var format = document.getElementById('slip-format');
    try {
      var saved = window.localStorage.getItem(FORMAT_KEY);
      if (saved === 'a6' || saved === 'receipt') format.value = saved;
    } catch (e) { /* storage blocked */ }
    format.addEventListener('change', function () {
      try { window.localStorage.setItem(FORMAT_KEY, slipFormat()); } catch (e) { /* storage blocked */ }
    });

    document.getElementById('search-form').addEventListener('submit', function (event) {
      event.preventDefault();
      state.search = document.getElementById('search-q').value.trim();
      document.getElementById('search-clear').hidden = !state.search;
      refreshNow();
    });
    document.getElementById('search-clear').addEventListener('click', function () {
      document.getElementById('search-q').value = '';
      state.search = '';
      document.getElementById('search-clear').hidden = true;
      refreshNow();
    });
    document.getElementById('shares-form').addEventListener('submit', function (event) {
      event.preventDefault();
      state.sharesStatus = document.getElementById('shares-status').value || 'all';
      state.sharesQuery = document.getElementById('shares-q').value.trim();
      refreshNow();
    });
    document.getElementById('shares-status').addEventListener('change', function () {
      state.sharesStatus = document.getElementById('shares-status').value || 'all';
      refreshNow();
    });

    createForm.addEventListener('submit', submitCreate);
    document.getElementById('create-cancel').addEventListener('click', closeCreate);
    document.getElementById('result-close').addEventListener('click', closeCreate);
    createDialog.addEventListener('close', function () { setText('result-pin', ''); });
    document.getElementById('consent-attested').addEventListener('change', function () {
      document.getElementById('create-error').hidden = true;
    });

    document.getElementById('revoke-form').addEventListener('submit', submitRevoke);
    document.getElementById('revoke-cancel').addEventListener('click', function () {
      closeDialog(revokeDialog);
      revoking = null;
    });

    // Back from printing a slip in another tab: show its new state at once.
    window.addEventListener('focus', function () { if (state.lastSuccess) refreshNow(); });
    window.addEventListener('hashchange', openFromHash);
  }

  bind();
  var initial = HB.initLayout({ page: 'reception', title: 'Reception' });
  initial.then(renderSystem, function (e) { showAlert('page-error', 'Could not load the system status: ' + HB.describeError(e)); });
  poller = HB.startPolling(refresh, {
    intervalMs: REFRESH_MS,
    onPause: function (value) { state.paused = value; showStatus(); }
  });
  initial.then(openFromHash, openFromHash);
})();
