/*
 * Federation search: one patient's studies at every connected hospital.
 *   GET  /bridge/system                      (layout; the caller's role decides whether "Retrieve" shows)
 *   GET  /bridge/federation/query?national_id=|patient_id=|local_patient_id=
 *   GET  /bridge/federation/retrieve         (jobs already running for the studies shown)
 *   POST /bridge/federation/retrieve {site, study_uid}
 *   GET  /bridge/federation/retrieve/{job_id} every second until succeeded / failed
 *   GET  /bridge/studies/{study_uid}         (after a retrieve: link to Orthanc Explorer)
 * Every server string (registry, DICOM, peer answers) reaches the DOM only via textContent / HB.el.
 */
(function () {
  'use strict';

  var el = HB.el;
  var setText = HB.setText;

  var KINDS = {
    national_id: { label: 'National ID', placeholder: 'e.g. 19800101123', describe: 'national ID' },
    patient_id: { label: 'Registry ID', placeholder: 'PAT-…', describe: 'registry ID' },
    local_patient_id: { label: 'Patient ID at this site', placeholder: 'DICOM PatientID', describe: 'patient ID at this site' }
  };
  var RETRIEVE_ROLES = ['admin', 'radiologist', 'technician'];
  var STATUS = {
    ok: { label: 'OK', tone: 'ok' },
    timeout: { label: 'Timed out', tone: 'warn' },
    error: { label: 'Error', tone: 'error' },
    unauthorized: { label: 'Not authorised', tone: 'error' }
  };
  var POLL_MS = 1000;
  var ORTHANC_ID = /^[0-9a-f]{8}(-[0-9a-f]{8}){4}$/i;

  var form = document.getElementById('fed-form');
  var kindSelect = document.getElementById('fed-kind');
  var valueInput = document.getElementById('fed-value');
  var valueLabel = document.getElementById('fed-value-label');
  var submit = document.getElementById('fed-submit');
  var statusLine = document.getElementById('fed-status');
  var errorBox = document.getElementById('fed-error');

  var system = null;
  var searchSeq = 0;
  var lastAnswer = null;
  var jobs = {};        // study_uid -> {job, site, siteName, problem, explorerId}
  var actionCells = {}; // study_uid -> td of the current table

  function str(value) {
    return value === undefined || value === null ? '' : String(value);
  }

  function showError(message) {
    errorBox.textContent = message || '';
    errorBox.hidden = !message;
  }

  function localSiteId() {
    return system && system.site && system.site.id ? String(system.site.id) : '';
  }

  function canRetrieve() {
    var role = system && system.user ? system.user.role : '';
    return RETRIEVE_ROLES.indexOf(role) !== -1;
  }

  /* ------------------------------------------------------------------ form */

  function applyKind() {
    var kind = KINDS[kindSelect.value] || KINDS.national_id;
    valueLabel.textContent = kind.label;
    valueInput.setAttribute('placeholder', kind.placeholder);
  }

  kindSelect.addEventListener('change', applyKind);
  valueInput.addEventListener('input', function () {
    // A registry ID typed into the national ID field: switch the kind for the user.
    if (kindSelect.value === 'national_id' && /^PAT-/i.test(valueInput.value.trim())) {
      kindSelect.value = 'patient_id';
      applyKind();
    }
  });

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var value = valueInput.value.trim();
    if (!value) {
      valueInput.setAttribute('aria-invalid', 'true');
      showError('Enter a ' + (KINDS[kindSelect.value] || KINDS.national_id).describe + ' to search for.');
      valueInput.focus();
      return;
    }
    valueInput.removeAttribute('aria-invalid');
    var params = new URLSearchParams();
    params.set(kindSelect.value, value);
    try { window.history.replaceState(null, '', '?' + params.toString()); } catch (e) { /* ignore */ }
    search(kindSelect.value, value);
  });

  /* ---------------------------------------------------------------- search */

  async function search(kind, value) {
    var seq = ++searchSeq;
    showError('');
    submit.disabled = true;
    submit.textContent = 'Searching\u2026';
    form.setAttribute('aria-busy', 'true');
    statusLine.textContent = 'Asking every site for the studies of ' + KINDS[kind].describe + ' ' + value + '\u2026';
    var started = Date.now();
    var query = {};
    query[kind] = value;
    try {
      var answer = await HB.api('/bridge/federation/query', { query: query, timeoutMs: 120000 });
      if (seq !== searchSeq) return;
      await systemReady;
      lastAnswer = answer && typeof answer === 'object' ? answer : {};
      render(lastAnswer);
      statusLine.textContent = 'Results for ' + KINDS[kind].describe + ' ' + value + ' \u00b7 ' +
        ((Date.now() - started) / 1000).toFixed(1) + ' s \u00b7 ' + HB.formatTime(new Date());
      loadRunningJobs();
    } catch (e) {
      if (seq !== searchSeq) return;
      statusLine.textContent = '';
      if (e.status === 400) {
        showError('The search was not accepted: ' + (e.detail || e.message));
        valueInput.setAttribute('aria-invalid', 'true');
      } else if (e.status === 404) {
        showError('Not found: ' + HB.describeError(e));
        valueInput.setAttribute('aria-invalid', 'true');
      } else {
        showError('Federation search failed: ' + HB.describeError(e));
      }
    } finally {
      if (seq === searchSeq) {
        submit.disabled = false;
        submit.textContent = 'Search all sites';
        form.setAttribute('aria-busy', 'false');
      }
    }
  }

  function render(answer) {
    renderPatient(answer.patient);
    var sites = Array.isArray(answer.sites) ? answer.sites.filter(isObject) : [];
    renderSites(sites, answer);
    renderStudies(Array.isArray(answer.studies) ? answer.studies.filter(isObject) : [], sites, answer);
    document.getElementById('fed-results').hidden = false;
  }

  function isObject(value) {
    return value !== null && typeof value === 'object';
  }

  function renderPatient(patient) {
    var none = document.getElementById('fed-patient-none');
    var dl = document.getElementById('fed-patient-dl');
    var link = document.getElementById('fed-registry-link');
    if (!isObject(patient)) {
      none.hidden = false;
      dl.hidden = true;
      link.hidden = true;
      return;
    }
    none.hidden = true;
    dl.hidden = false;
    var name = HB.formatRegistryName(patient.first_name, patient.last_name);
    if (!name && patient.name) {
      name = str(patient.name).indexOf('^') !== -1 ? HB.formatPatientName(patient.name) : str(patient.name);
    }
    setText('fed-patient-name', name);
    setText('fed-patient-nid', patient.national_id);
    setText('fed-patient-birth', patient.date_of_birth);
    setText('fed-patient-sex', HB.formatSex(patient.gender));
    setText('fed-patient-id', patient.id);
    if (patient.id) {
      link.setAttribute('href', '/bridge/app/patients.html?id=' + encodeURIComponent(str(patient.id)));
      link.hidden = false;
    } else {
      link.hidden = true;
    }
  }

  function countOf(value) {
    if (Array.isArray(value)) return value.length;
    return typeof value === 'number' ? value : null;
  }

  function renderSites(sites, answer) {
    var list = HB.clear(document.getElementById('fed-sites'));
    var here = localSiteId();
    sites.forEach(function (site) {
      var status = STATUS[site.status] ? site.status : 'unknown';
      var info = STATUS[status] || { label: str(site.status) || 'Unknown', tone: 'error' };
      var meta = [];
      if (typeof site.latency_ms === 'number') meta.push(HB.formatNumber(Math.round(site.latency_ms)) + ' ms');
      if (status === 'ok' || typeof site.count === 'number' && site.count > 0) {
        var count = typeof site.count === 'number' ? site.count : 0;
        meta.push(HB.formatNumber(count) + (count === 1 ? ' study' : ' studies'));
      }
      var isHere = here && str(site.id) === here;
      var item = el('li', {
        className: 'hb-site-status hb-site-status-' + info.tone,
        attrs: { title: site.detail ? str(site.detail) : null }
      }, [
        el('div', { className: 'hb-site-status-head' }, [
          el('span', { className: 'hb-site-status-name', text: str(site.name) || str(site.id) || 'Unnamed site' }),
          el('span', { className: 'hb-badge hb-badge-' + info.tone, text: info.label })
        ]),
        el('p', { className: 'hb-site-status-meta' }, [
          el('span', { className: 'hb-muted', text: str(site.id) }),
          isHere ? el('span', { className: 'hb-chip hb-chip-local', text: 'this site' }) : null,
          meta.length ? el('span', { text: meta.join(' \u00b7 ') }) : null
        ]),
        site.detail ? el('p', { className: 'hb-site-status-detail', text: str(site.detail) }) : null
      ]);
      list.appendChild(item);
    });
    if (sites.length === 0) {
      list.appendChild(el('li', { className: 'hb-muted', text: 'No site answered.' }));
    }
    var ok = countOf(answer.hospitals_accessed);
    if (ok === null) ok = sites.filter(function (s) { return s.status === 'ok'; }).length;
    var failed = sites.filter(function (s) { return s.status !== 'ok'; }).length;
    document.getElementById('fed-sites-summary').textContent =
      HB.formatNumber(ok) + ' of ' + HB.formatNumber(sites.length) + ' sites answered' +
      (failed ? ' \u00b7 ' + HB.formatNumber(failed) + ' could not be searched: their studies may be missing below' : '');
  }

  function studySites(study) {
    var list = Array.isArray(study.sites) ? study.sites.filter(isObject) : [];
    if (list.length === 0 && (study.site_id || study.site_name)) {
      list = [{ id: study.site_id, name: study.site_name }];
    }
    return list;
  }

  function sortKey(study) {
    return (study.date ? str(study.date) : '0000-00-00') + ' ' + (study.time ? str(study.time) : '');
  }

  function renderStudies(studies, sites, answer) {
    var body = HB.clear(document.getElementById('fed-studies-body'));
    var wrap = document.getElementById('fed-studies-wrap');
    var empty = document.getElementById('fed-empty');
    actionCells = {};
    if (studies.length === 0) {
      wrap.hidden = true;
      empty.hidden = false;
      document.getElementById('fed-studies-summary').textContent = '';
      return;
    }
    // Newest first (the server already sorts; a stable sort keeps its order for ties).
    var sorted = studies.map(function (s, i) { return { s: s, i: i }; });
    sorted.sort(function (a, b) {
      var ka = sortKey(a.s);
      var kb = sortKey(b.s);
      if (ka !== kb) return ka < kb ? 1 : -1;
      return a.i - b.i;
    });
    var statusById = {};
    sites.forEach(function (s) { statusById[str(s.id)] = s.status; });
    sorted.forEach(function (entry) { body.appendChild(studyRow(entry.s, statusById)); });
    empty.hidden = true;
    wrap.hidden = false;
    var total = typeof answer.total_studies === 'number' ? answer.total_studies : studies.length;
    var here = studies.filter(function (s) { return s.local === true; }).length;
    document.getElementById('fed-studies-summary').textContent =
      HB.formatNumber(total) + (total === 1 ? ' study' : ' studies') + ', ' + HB.formatNumber(here) +
      ' held at this site \u00b7 newest first';
  }

  function cell(label, content, className) {
    // One wrapper per cell: on phones a cell is a two-column grid (label, value).
    var td = el('td', { className: className || '', attrs: { 'data-label': label } });
    if (content === undefined || content === null || content === '') {
      td.appendChild(el('span', { className: 'hb-muted', text: '\u2014' }));
    } else {
      td.appendChild(el('div', { className: 'hb-cell' }, content));
    }
    return td;
  }

  function studyRow(study, statusById) {
    var here = localSiteId();
    var chips = el('ul', { className: 'hb-chips' });
    studySites(study).forEach(function (site) {
      var isHere = here && str(site.id) === here;
      chips.appendChild(el('li', {
        className: 'hb-chip' + (isHere ? ' hb-chip-local' : ''),
        attrs: { title: site.id ? 'Site ' + str(site.id) : null }
      }, [str(site.name) || str(site.id), isHere ? el('span', { className: 'hb-chip-note', text: ' (this site)' }) : null]));
    });
    var modalities = Array.isArray(study.modalities) && study.modalities.length
      ? study.modalities.filter(Boolean).map(str).join(', ') : str(study.modality);
    var description = str(study.description);
    var descNode = description ? [el('span', { text: description })] : null;
    if (descNode && study.accession_number) {
      descNode.push(el('span', { className: 'hb-subtext', text: 'Accession ' + str(study.accession_number) }));
    }
    // Patient without federation consent (optional field; absent = nothing shown).
    if (isObject(study.restricted) && study.restricted.federation === true) {
      descNode = descNode || [];
      descNode.push(el('span', {
        className: 'hb-badge hb-badge-warn hb-badge-small hb-restricted', text: 'restricted',
        attrs: { title: 'Not shown to other hospitals: no federation consent' }
      }));
    }
    var action = el('td', { className: 'hb-action-cell', attrs: { 'data-label': 'At this site' } });
    var actionBox = el('div', { className: 'hb-cell' });
    action.appendChild(actionBox);
    var uid = str(study.study_uid);
    actionCells[uid] = { td: actionBox, study: study, statusById: statusById };
    renderAction(uid);
    return el('tr', {}, [
      cell('Study date', HB.formatStudyDate(str(study.date), str(study.time)), 'hb-nowrap'),
      cell('Site', chips.childNodes.length ? chips : ''),
      cell('Modality', modalities),
      cell('Description', descNode),
      cell('Series', HB.formatNumber(study.series_count), 'hb-num'),
      cell('Instances', HB.formatNumber(study.instance_count), 'hb-num'),
      action
    ]);
  }

  // The remote site to copy from: one that answered, not this one.
  function sourceSite(study, statusById) {
    var here = localSiteId();
    var remote = studySites(study).filter(function (s) { return s.id && str(s.id) !== here; });
    var answered = remote.filter(function (s) { return statusById[str(s.id)] === 'ok'; });
    var pick = answered[0] || remote[0];
    if (!pick && study.site_id && str(study.site_id) !== here) pick = { id: study.site_id, name: study.site_name };
    return pick ? { id: str(pick.id), name: str(pick.name) || str(pick.id) } : null;
  }

  /* -------------------------------------------------------------- retrieve */

  function renderAction(uid) {
    var entry = actionCells[uid];
    if (!entry) return;
    var td = HB.clear(entry.td);
    var study = entry.study;
    var state = jobs[uid];
    if (state && state.job && state.job.state === 'succeeded') study.local = true;

    if (study.local === true && !(state && state.job)) {
      td.appendChild(el('span', { className: 'hb-badge hb-badge-ok', text: 'Held here' }));
      return;
    }
    if (state && state.job) {
      renderJob(td, uid, state);
      return;
    }
    if (!canRetrieve()) {
      td.appendChild(el('span', { className: 'hb-muted', text: 'Not held here' }));
      return;
    }
    var source = sourceSite(study, entry.statusById);
    if (!source) {
      td.appendChild(el('span', { className: 'hb-muted', text: 'Not held here' }));
      return;
    }
    var button = el('button', {
      className: 'hb-button hb-button-small hb-no-print',
      text: state && state.problem ? 'Retry' : 'Retrieve',
      attrs: { type: 'button', title: 'Copy this study from ' + source.name + ' to this site' }
    });
    button.addEventListener('click', function () { startRetrieve(uid, source, button); });
    td.appendChild(button);
    td.appendChild(el('span', { className: 'hb-subtext', text: 'from ' + source.name }));
    if (state && state.problem) {
      td.appendChild(el('span', { className: 'hb-subtext hb-text-error', attrs: { role: 'alert' }, text: state.problem }));
    }
  }

  function renderJob(td, uid, state) {
    var job = state.job;
    var total = typeof job.instances_total === 'number' ? job.instances_total : 0;
    var done = typeof job.instances_done === 'number' ? job.instances_done : 0;
    var skipped = typeof job.instances_skipped === 'number' ? job.instances_skipped : 0;
    var from = state.siteName || str(job.site);
    var counts = total > 0
      ? HB.formatNumber(done) + ' of ' + HB.formatNumber(total) + ' instances' +
        (skipped ? ' (' + HB.formatNumber(skipped) + ' already here)' : '')
      : '';
    var wrap = el('div', { className: 'hb-job', attrs: { 'aria-live': 'polite' } });
    td.appendChild(wrap);

    if (job.state === 'succeeded') {
      wrap.appendChild(el('span', { className: 'hb-badge hb-badge-ok', text: 'Retrieved' }));
      if (counts) wrap.appendChild(el('span', { className: 'hb-subtext', text: counts }));
      if (state.explorerId) {
        wrap.appendChild(el('a', {
          className: 'hb-subtext hb-no-print', text: 'Open in Orthanc Explorer',
          attrs: { href: '/app/explorer.html#study?uuid=' + encodeURIComponent(state.explorerId) }
        }));
      }
      return;
    }
    if (job.state === 'failed') {
      wrap.appendChild(el('span', { className: 'hb-badge hb-badge-error', text: 'Failed' }));
      wrap.appendChild(el('span', { className: 'hb-subtext hb-text-error', text: str(job.error) || 'The retrieve failed.' }));
      if (counts) wrap.appendChild(el('span', { className: 'hb-subtext', text: counts }));
      if (canRetrieve()) {
        var retry = el('button', {
          className: 'hb-button hb-button-small hb-no-print', text: 'Retry', attrs: { type: 'button' }
        });
        retry.addEventListener('click', function () {
          startRetrieve(uid, { id: str(job.site), name: from }, retry);
        });
        wrap.appendChild(retry);
      }
      return;
    }
    // pending or running
    wrap.appendChild(el('span', {
      className: 'hb-badge hb-badge-info',
      text: job.state === 'pending' ? 'Waiting to start' : 'Retrieving'
    }));
    var progress = el('progress', {
      className: 'hb-progress',
      attrs: { max: String(total > 0 ? total : 1), 'aria-label': 'Retrieve progress' }
    });
    if (total > 0) progress.value = Math.min(done, total);
    else progress.removeAttribute('value');   // indeterminate until the peer said how many
    wrap.appendChild(progress);
    wrap.appendChild(el('span', { className: 'hb-subtext', text: counts || ('from ' + from) }));
    if (state.problem) wrap.appendChild(el('span', { className: 'hb-subtext hb-text-error', text: state.problem }));
  }

  async function startRetrieve(uid, source, button) {
    button.disabled = true;
    button.textContent = 'Starting\u2026';
    var state = jobs[uid] || {};
    jobs[uid] = state;
    state.problem = '';
    state.site = source.id;
    state.siteName = source.name;
    try {
      var job = await HB.api('/bridge/federation/retrieve', {
        method: 'POST', body: { site: source.id, study_uid: uid }
      });
      if (!isObject(job) || !job.job_id) throw new Error('The server did not return a job.');
      state.job = job;
      renderAction(uid);
      poll(uid);
    } catch (e) {
      state.job = null;
      state.problem = e.status === 403 ? 'Your role may not retrieve studies.' : 'Could not start: ' + HB.describeError(e);
      renderAction(uid);
    }
  }

  function isFinished(job) {
    return job && (job.state === 'succeeded' || job.state === 'failed');
  }

  function poll(uid) {
    var state = jobs[uid];
    if (!state || !state.job || state.polling) return;
    state.polling = true;
    var failures = 0;
    async function tick() {
      if (!state.job || isFinished(state.job)) { state.polling = false; return; }
      try {
        var job = await HB.api('/bridge/federation/retrieve/' + encodeURIComponent(str(state.job.job_id)));
        if (isObject(job)) state.job = job;
        state.problem = '';
        failures = 0;
      } catch (e) {
        failures += 1;
        if (e.status === 404) {
          state.problem = 'The server no longer knows this retrieve job.';
          state.job = null;
          state.polling = false;
          renderAction(uid);
          return;
        }
        state.problem = 'Cannot read the progress (' + e.message + '); retrying\u2026';
      }
      if (state.job && state.job.state === 'succeeded') {
        markHeldHere(uid);
        findLocalStudy(uid, state);
      }
      renderAction(uid);
      if (state.job && !isFinished(state.job)) {
        setTimeout(tick, failures > 3 ? 5000 : POLL_MS);
      } else {
        state.polling = false;
      }
    }
    setTimeout(tick, POLL_MS);
  }

  function markHeldHere(uid) {
    var entry = actionCells[uid];
    if (entry) entry.study.local = true;
  }

  // The retrieved study, in the local index, to link it in Orthanc Explorer (a few tries:
  // the index is filled a moment after the instances arrive).
  async function findLocalStudy(uid, state) {
    for (var attempt = 0; attempt < 5 && !state.explorerId; attempt++) {
      try {
        var study = await HB.api('/bridge/studies/' + encodeURIComponent(uid));
        if (study && typeof study.orthanc_id === 'string' && ORTHANC_ID.test(study.orthanc_id)) {
          state.explorerId = study.orthanc_id;
          renderAction(uid);
          return;
        }
      } catch (e) {
        if (e.status !== 404) return;
      }
      await new Promise(function (resolve) { setTimeout(resolve, 1500); });
    }
  }

  // Retrieves started earlier (another tab, before a reload) for the studies on screen.
  async function loadRunningJobs() {
    if (!canRetrieve()) return;
    var answer;
    try {
      answer = await HB.api('/bridge/federation/retrieve');
    } catch (e) {
      return; // optional information
    }
    var list = answer && Array.isArray(answer.jobs) ? answer.jobs : [];
    list.forEach(function (job) {
      if (!isObject(job) || !job.study_uid || !job.job_id) return;
      var uid = str(job.study_uid);
      if (!actionCells[uid] || isFinished(job)) return;    // newest first: the first one wins
      if (jobs[uid] && jobs[uid].job) return;
      jobs[uid] = { job: job, site: str(job.site), siteName: siteName(job.site), problem: '' };
      renderAction(uid);
      poll(uid);
    });
  }

  function siteName(id) {
    var sites = lastAnswer && Array.isArray(lastAnswer.sites) ? lastAnswer.sites : [];
    for (var i = 0; i < sites.length; i++) {
      if (isObject(sites[i]) && str(sites[i].id) === str(id)) return str(sites[i].name) || str(id);
    }
    return str(id);
  }

  /* ------------------------------------------------------------------ start */

  var systemReady = HB.initLayout({ page: 'federation', title: 'Federation search' }).then(function (s) {
    system = s;
  }, function (e) {
    showError('Could not load the session: ' + HB.describeError(e));
  });

  var params = new URLSearchParams(window.location.search);
  var initialKind = null;
  ['national_id', 'patient_id', 'local_patient_id'].forEach(function (kind) {
    if (!initialKind && params.get(kind) && params.get(kind).trim()) initialKind = kind;
  });
  if (initialKind) {
    kindSelect.value = initialKind;
    valueInput.value = params.get(initialKind).trim();
  }
  applyKind();
  if (initialKind) {
    search(initialKind, valueInput.value);
  } else {
    valueInput.focus();
  }
})();
