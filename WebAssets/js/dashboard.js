/*
 * Dashboard: GET /bridge/system and GET /bridge/studies?limit=10, refreshed every 10 s.
 * /bridge/system also gives the patient links ("shares") and the watch folders.
 * Server and DICOM strings reach the DOM only via textContent / HB.el (see app.js).
 */
(function () {
  'use strict';

  var REFRESH_MS = 10000;
  var STUDY_LIMIT = 10;
  var ORTHANC_ID = /^[0-9a-f]{8}(-[0-9a-f]{8}){4}$/i;

  var el = HB.el;
  var setText = HB.setText;
  var lastSuccess = null;

  var STATE_LABELS = { idle: 'Idle', indexing: 'Indexing', reconciling: 'Reconciling' };

  function setBadge(id, text, tone) {
    var node = document.getElementById(id);
    if (!node) return;
    node.textContent = text || '\u2014';
    node.className = 'hb-badge' + (tone ? ' hb-badge-' + tone : '');
  }

  function showError(message) {
    var box = document.getElementById('dashboard-error');
    box.textContent = message || '';
    box.hidden = !message;
  }

  function renderSystem(system) {
    var site = system.site || {};
    var orthanc = system.orthanc || {};
    var counts = orthanc.counts || {};
    var plugin = system.plugin || {};
    var database = system.database || {};
    var index = system.index || {};

    setText('site-name', site.name);
    setText('site-id', site.id);
    setText('dicom-aet', orthanc.dicom_aet);
    setText('orthanc-version', orthanc.version);
    setText('plugin-version', plugin.version);

    setText('count-studies', HB.formatNumber(index.studies));
    setText('count-patients', HB.formatNumber(index.patients));
    setText('count-instances', HB.formatNumber(index.instances));
    setText('orthanc-studies', HB.formatNumber(counts.studies));
    setText('orthanc-patients', HB.formatNumber(counts.patients));
    setText('orthanc-instances', HB.formatNumber(counts.instances));
    setText('orthanc-series', HB.formatNumber(counts.series));

    setText('queue-depth', HB.formatNumber(index.queue_depth));
    var state = index.state ? String(index.state) : '';
    setBadge('index-state', STATE_LABELS[state] || state,
      state === 'idle' ? 'ok' : (state === 'indexing' ? 'info' : (state ? 'warn' : '')));

    renderShares(system.shares);
    renderWatchFolders(system.watch_folders);

    setText('db-schema', database.schema_version);
    var status = database.status ? String(database.status) : '';
    setBadge('db-status', status === 'ok' ? 'OK' : status, status === 'ok' ? 'ok' : (status ? 'error' : ''));
    setText('last-reconcile', HB.formatDateTime(index.last_reconcile));
  }

  function sumOf(list, key) {
    return list.reduce(function (sum, item) {
      var n = Number(item[key]);
      return sum + (isFinite(n) ? n : 0);
    }, 0);
  }

  // GET /bridge/system "shares": {enabled, public_base_url, active, pending_slips, auto_share}.
  function renderShares(shares) {
    var warning = document.getElementById('shares-warning');
    if (!shares || typeof shares !== 'object') {
      setText('shares-active', '');
      setText('shares-pending', '');
      setText('shares-auto', '');
      warning.hidden = true;
      return;
    }
    if (shares.enabled === false) {
      setText('shares-active', 'Off');
      setText('shares-pending', '');
      setText('shares-auto', 'switched off');
      warning.hidden = true;
      return;
    }
    setText('shares-active', HB.formatNumber(shares.active));
    setText('shares-pending', HB.formatNumber(shares.pending_slips));
    var auto = shares.auto_share && typeof shares.auto_share === 'object' ? shares.auto_share : {};
    var triggers = [];
    if (Array.isArray(auto.modalities)) triggers = triggers.concat(auto.modalities.filter(Boolean).map(String));
    if (Array.isArray(auto.calling_aets)) triggers = triggers.concat(auto.calling_aets.filter(Boolean).map(String));
    setText('shares-auto', auto.enabled === true
      ? 'auto-share on' + (triggers.length ? ' (' + triggers.join(', ') + ')' : '')
      : 'auto-share off');
    if (!shares.public_base_url) {
      warning.textContent = 'No public address set (Shares.PublicBaseUrl): QR codes use this PC\u2019s address.';
      warning.className = 'hb-tile-sub hb-text-warn';
      warning.hidden = false;
    } else {
      warning.textContent = 'Patients\u2019 phones open ' + String(shares.public_base_url);
      warning.className = 'hb-tile-sub';
      warning.hidden = false;
    }
  }

  function watchRow(folder) {
    var failed = Number(folder.failed) || 0;
    var pathParts = [el('span', { className: 'hb-id', text: folder.path ? String(folder.path) : '?' })];
    var after = folder.after_import === 'delete'
      ? 'imported files are deleted'
      : (folder.processed_path ? 'imported files go to ' + String(folder.processed_path) : '');
    if (after) pathParts.push(el('span', { className: 'hb-subtext', text: after }));
    if (folder.failed_path) pathParts.push(el('span', { className: 'hb-subtext', text: 'failed files go to ' + String(folder.failed_path) }));
    var lastImport = folder.last_import
      ? el('time', { text: HB.formatDateTime(folder.last_import), attrs: { datetime: String(folder.last_import) } })
      : '';
    return el('tr', { className: failed > 0 ? 'hb-row-warn' : '' }, [
      cell('Folder', pathParts),
      cell('Waiting', HB.formatNumber(folder.waiting), 'hb-num'),
      cell('Imported', HB.formatNumber(folder.imported), 'hb-num'),
      cell('Duplicates', HB.formatNumber(folder.duplicates), 'hb-num'),
      cell('Failed', failed > 0 ? el('span', { className: 'hb-text-error hb-strong', text: HB.formatNumber(failed) })
        : HB.formatNumber(folder.failed), 'hb-num'),
      cell('Last import', lastImport, 'hb-nowrap'),
      cell('Last error', folder.last_error ? el('span', { className: 'hb-text-error', text: String(folder.last_error) }) : '')
    ]);
  }

  // GET /bridge/system "watch_folders": {enabled, folders: [{path, waiting, imported, ...}]}.
  function renderWatchFolders(watch) {
    var folders = watch && Array.isArray(watch.folders)
      ? watch.folders.filter(function (f) { return f && typeof f === 'object'; }) : [];
    var configured = !!(watch && watch.enabled !== false && folders.length > 0);
    var body = HB.clear(document.getElementById('watch-body'));
    var empty = document.getElementById('watch-empty');
    document.getElementById('watch-wrap').hidden = !configured;
    empty.hidden = configured;
    if (!configured) {
      empty.textContent = watch
        ? 'Not configured: no folder is watched (WatchFolders.Folders in the configuration).'
        : 'This server does not report watch folders.';
      setText('watch-waiting', watch ? 'Off' : '');
      setText('watch-summary', watch ? 'not configured' : '');
      setText('watch-failed', '');
      setText('watch-failed-sub', watch ? 'no watch folder' : '');
      document.getElementById('watch-note').textContent = '';
      return;
    }
    folders.forEach(function (folder) { body.appendChild(watchRow(folder)); });
    var failed = sumOf(folders, 'failed');
    setText('watch-waiting', HB.formatNumber(sumOf(folders, 'waiting')));
    setText('watch-summary', 'files waiting \u00b7 imported ' + HB.formatNumber(sumOf(folders, 'imported')) +
      ', duplicates ' + HB.formatNumber(sumOf(folders, 'duplicates')));
    setText('watch-failed', HB.formatNumber(failed));
    var lastError = '';
    folders.forEach(function (f) { if (!lastError && f.last_error) lastError = String(f.last_error); });
    var short = lastError.length > 90 ? lastError.slice(0, 89) + '\u2026' : lastError;
    var sub = setText('watch-failed-sub', lastError ? 'Last error: ' + short
      : (failed > 0 ? 'see the failed folder (a reason file is beside each file)' : 'no failed file'));
    if (sub) sub.title = lastError;
    document.getElementById('watch-note').textContent = folders.length === 1 ? '1 folder' : folders.length + ' folders';
  }

  function cell(label, content, className) {
    var td = el('td', { className: className || '', attrs: { 'data-label': label } });
    if (content === undefined || content === null || content === '' ||
        (Array.isArray(content) && content.length === 0)) {
      td.appendChild(el('span', { className: 'hb-muted', text: '\u2014' }));
    } else {
      HB.appendChildren(td, content);
    }
    return td;
  }

  // Studies whose patient refused (or never gave) federation consent; an absent field shows nothing.
  function restrictedBadge(study) {
    var r = study.restricted;
    if (!r || typeof r !== 'object' || r.federation !== true) return null;
    return el('span', {
      className: 'hb-badge hb-badge-warn hb-badge-small hb-restricted',
      text: 'restricted',
      attrs: { title: 'Not shown to other hospitals: no federation consent' }
    });
  }

  function studyRow(study) {
    var name = HB.formatPatientName(study.patient_name);
    var nameNode;
    if (!name) {
      nameNode = el('span', { className: 'hb-muted', text: 'No name' });
    } else if (typeof study.orthanc_id === 'string' && ORTHANC_ID.test(study.orthanc_id)) {
      nameNode = el('a', {
        text: name,
        attrs: {
          href: '/app/explorer.html#study?uuid=' + encodeURIComponent(study.orthanc_id),
          title: 'Open this study in Orthanc Explorer'
        }
      });
    } else {
      nameNode = el('span', { text: name });
    }

    var modalities = Array.isArray(study.modalities) ? study.modalities.filter(Boolean).join(', ') : '';
    var received = el('time', {
      text: HB.formatDateTime(study.last_received),
      attrs: {
        datetime: study.last_received ? String(study.last_received) : null,
        title: study.first_received ? 'First received ' + HB.formatDateTime(study.first_received) : null
      }
    });

    return el('tr', {}, [
      cell('Study date', HB.formatStudyDate(study.study_date, study.study_time), 'hb-nowrap'),
      cell('Patient', nameNode, 'hb-strong'),
      cell('Patient ID', study.patient_id ? String(study.patient_id) : ''),
      cell('Modality', modalities),
      cell('Description', [study.description ? el('span', { text: String(study.description) }) : null,
        restrictedBadge(study)].filter(Boolean)),
      cell('Series', HB.formatNumber(study.series_count), 'hb-num'),
      cell('Instances', HB.formatNumber(study.instance_count), 'hb-num'),
      cell('Received', study.last_received ? received : '', 'hb-nowrap')
    ]);
  }

  function renderStudies(result, system) {
    var studies = (result && Array.isArray(result.studies)) ? result.studies : [];
    var total = result && typeof result.total === 'number' ? result.total : studies.length;
    var body = HB.clear(document.getElementById('studies-body'));
    var wrap = document.getElementById('studies-wrap');
    var empty = document.getElementById('studies-empty');

    if (studies.length === 0) {
      wrap.hidden = true;
      HB.clear(empty);
      var aet = (system && system.orthanc && system.orthanc.dicom_aet) ? String(system.orthanc.dicom_aet) : '?';
      HB.appendChildren(empty, [
        'No studies yet \u2014 send DICOM to AET ',
        el('strong', { text: aet }),
        ' or upload in ',
        el('a', { text: 'Orthanc Explorer', attrs: { href: '/app/explorer.html' } })
      ]);
      empty.hidden = false;
      document.getElementById('studies-summary').textContent = '';
      return;
    }

    studies.forEach(function (study) {
      if (study && typeof study === 'object') body.appendChild(studyRow(study));
    });
    empty.hidden = true;
    wrap.hidden = false;
    document.getElementById('studies-summary').textContent =
      'Showing ' + HB.formatNumber(studies.length) + ' of ' + HB.formatNumber(total) + ' studies, newest first';
  }

  var paused = false;

  function showStatus() {
    var text;
    if (paused) {
      text = 'Auto-refresh paused after 10 minutes without activity. Press a key or click to resume.';
    } else if (lastSuccess) {
      text = 'Updated ' + HB.formatTime(lastSuccess) + ' \u00b7 refreshes every 10 s';
    } else {
      text = 'Not loaded';
    }
    document.getElementById('refresh-status').textContent = text;
  }

  function settle(promise) {
    return promise.then(function (value) { return { ok: true, value: value }; },
      function (error) { return { ok: false, error: error }; });
  }

  function describe(error) {
    return error.message + (error.detail ? ' (' + error.detail + ')' : '');
  }

  var lastSystem = null;

  // Both calls run in parallel; each part of the page is updated on its own, so one
  // failing call does not blank the other.
  async function refresh() {
    var systemCall = initial || HB.loadSystem();
    initial = null;
    var results = await Promise.all([
      settle(systemCall),
      settle(HB.api('/bridge/studies', { query: { limit: STUDY_LIMIT } }))
    ]);
    var problems = [];
    if (results[0].ok) {
      lastSystem = results[0].value;
      renderSystem(lastSystem);
    } else {
      problems.push('system status: ' + describe(results[0].error));
    }
    if (results[1].ok) {
      renderStudies(results[1].value, lastSystem);
    } else {
      problems.push('latest studies: ' + describe(results[1].error));
    }
    if (problems.length === 0) {
      lastSuccess = new Date();
      showError('');
    } else {
      var message = 'Could not load ' + problems.join('; ') + '.';
      if (lastSuccess) message += ' Showing data from ' + HB.formatTime(lastSuccess) + '.';
      showError(message);
    }
    showStatus();
  }

  // initLayout already fetches /bridge/system: the first refresh reuses that answer.
  var initial = HB.initLayout({ page: 'dashboard', title: 'Dashboard' });
  initial.catch(function () { /* reported by refresh() */ });
  HB.startPolling(refresh, {
    intervalMs: REFRESH_MS,
    onPause: function (value) { paused = value; showStatus(); }
  });
})();
