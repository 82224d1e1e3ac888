/*
 * Dashboard: GET /bridge/system and GET /bridge/studies?limit=10, refreshed every 10 s.
 * /bridge/system also gives the patient links ("shares") and the watch folders.
 * Server and DICOM strings reach the DOM only via textContent / el() (see lib/dom.js).
 */
import { api, describeError } from '../lib/api.js';
import { byId, el, clear, setText, appendChildren } from '../lib/dom.js';
import { formatDateTime, formatNumber, formatPatientName, formatStudyDate } from '../lib/format.js';
import { t, tParts } from '../lib/i18n.js';
import { initLayout, loadSystem } from '../lib/layout.js';
import { startPolling, refreshStatusText, loadProblemsText } from '../lib/polling.js';
import { settle } from '../lib/text.js';
import { cell, restrictedBadge, showAlert } from '../lib/ui.js';
import { viewerAvailable, viewerLink } from '../lib/viewer.js';

let mayView = false;  // the viewer's roles, its files installed

const REFRESH_MS = 10000;
const STUDY_LIMIT = 10;
const ORTHANC_ID = /^[0-9a-f]{8}(-[0-9a-f]{8}){4}$/i;
const STATE_KEYS = { idle: 'dashboard.state.idle', indexing: 'dashboard.state.indexing', reconciling: 'dashboard.state.reconciling' };

let lastSuccess = null;
let lastSystem = null;
let paused = false;

function setBadge(id, text, tone) {
  const node = byId(id);
  if (!node) return;
  node.textContent = text || '\u2014';
  node.className = 'hb-badge' + (tone ? ' hb-badge-' + tone : '');
}

function renderSystem(system) {
  const site = system.site || {};
  const orthanc = system.orthanc || {};
  const counts = orthanc.counts || {};
  const plugin = system.plugin || {};
  const database = system.database || {};
  const index = system.index || {};

  setText('site-name', site.name);
  setText('site-id', site.id);
  setText('dicom-aet', orthanc.dicom_aet);
  setText('orthanc-version', orthanc.version);
  setText('plugin-version', plugin.version);

  setText('count-studies', formatNumber(index.studies));
  setText('count-patients', formatNumber(index.patients));
  setText('count-instances', formatNumber(index.instances));
  setText('orthanc-studies', formatNumber(counts.studies));
  setText('orthanc-patients', formatNumber(counts.patients));
  setText('orthanc-instances', formatNumber(counts.instances));
  setText('orthanc-series', formatNumber(counts.series));

  setText('queue-depth', formatNumber(index.queue_depth));
  const state = index.state ? String(index.state) : '';
  setBadge('index-state', STATE_KEYS[state] ? t(STATE_KEYS[state]) : state,
    state === 'idle' ? 'ok' : (state === 'indexing' ? 'info' : (state ? 'warn' : '')));

  renderShares(system.shares);
  renderWatchFolders(system.watch_folders);

  setText('db-schema', database.schema_version);
  const status = database.status ? String(database.status) : '';
  setBadge('db-status', status === 'ok' ? t('common.ok') : status, status === 'ok' ? 'ok' : (status ? 'error' : ''));
  setText('last-reconcile', formatDateTime(index.last_reconcile));
}

function sumOf(list, key) {
  return list.reduce(function (sum, item) {
    const n = Number(item[key]);
    return sum + (isFinite(n) ? n : 0);
  }, 0);
}

// GET /bridge/system "shares": {enabled, public_base_url, active, pending_slips, auto_share}.
function renderShares(shares) {
  const warning = byId('shares-warning');
  if (!shares || typeof shares !== 'object') {
    setText('shares-active', '');
    setText('shares-pending', '');
    setText('shares-auto', '');
    warning.hidden = true;
    return;
  }
  if (shares.enabled === false) {
    setText('shares-active', t('dashboard.off'));
    setText('shares-pending', '');
    setText('shares-auto', t('dashboard.shares.switchedOff'));
    warning.hidden = true;
    return;
  }
  setText('shares-active', formatNumber(shares.active));
  setText('shares-pending', formatNumber(shares.pending_slips));
  const auto = shares.auto_share && typeof shares.auto_share === 'object' ? shares.auto_share : {};
  let triggers = [];
  if (Array.isArray(auto.modalities)) triggers = triggers.concat(auto.modalities.filter(Boolean).map(String));
  if (Array.isArray(auto.calling_aets)) triggers = triggers.concat(auto.calling_aets.filter(Boolean).map(String));
  setText('shares-auto', auto.enabled !== true ? t('dashboard.shares.autoOff')
    : (triggers.length ? t('dashboard.shares.autoOnFor', { triggers: triggers.join(', ') }) : t('dashboard.shares.autoOn')));
  if (!shares.public_base_url) {
    warning.textContent = t('dashboard.shares.noPublicUrl');
    warning.className = 'hb-tile-sub hb-text-warn';
  } else {
    warning.textContent = t('dashboard.shares.phonesOpen', { url: String(shares.public_base_url) });
    warning.className = 'hb-tile-sub';
  }
  warning.hidden = false;
}

function watchRow(folder) {
  const failed = Number(folder.failed) || 0;
  const pathParts = [el('span', { className: 'hb-id', text: folder.path ? String(folder.path) : '?' })];
  const after = folder.after_import === 'delete'
    ? t('dashboard.watch.deleted')
    : (folder.processed_path ? t('dashboard.watch.movedTo', { path: String(folder.processed_path) }) : '');
  if (after) pathParts.push(el('span', { className: 'hb-subtext', text: after }));
  if (folder.failed_path) pathParts.push(el('span', { className: 'hb-subtext', text: t('dashboard.watch.failedTo', { path: String(folder.failed_path) }) }));
  const lastImport = folder.last_import
    ? el('time', { text: formatDateTime(folder.last_import), attrs: { datetime: String(folder.last_import) } })
    : '';
  const bare = { bare: true };
  return el('tr', { className: failed > 0 ? 'hb-row-warn' : '' }, [
    cell(t('dashboard.watch.col.folder'), pathParts, '', bare),
    cell(t('dashboard.watch.col.waiting'), formatNumber(folder.waiting), 'hb-num', bare),
    cell(t('dashboard.watch.col.imported'), formatNumber(folder.imported), 'hb-num', bare),
    cell(t('dashboard.watch.col.duplicates'), formatNumber(folder.duplicates), 'hb-num', bare),
    cell(t('dashboard.watch.col.failed'), failed > 0 ? el('span', { className: 'hb-text-error hb-strong', text: formatNumber(failed) })
      : formatNumber(folder.failed), 'hb-num', bare),
    cell(t('dashboard.watch.col.lastImport'), lastImport, 'hb-nowrap', bare),
    cell(t('dashboard.watch.col.lastError'), folder.last_error ? el('span', { className: 'hb-text-error', text: String(folder.last_error) }) : '', '', bare)
  ]);
}

// GET /bridge/system "watch_folders": {enabled, folders: [{path, waiting, imported, ...}]}.
function renderWatchFolders(watch) {
  const folders = watch && Array.isArray(watch.folders)
    ? watch.folders.filter(function (f) { return f && typeof f === 'object'; }) : [];
  const configured = !!(watch && watch.enabled !== false && folders.length > 0);
  const body = clear(byId('watch-body'));
  const empty = byId('watch-empty');
  byId('watch-wrap').hidden = !configured;
  empty.hidden = configured;
  if (!configured) {
    empty.textContent = watch ? t('dashboard.watch.notConfigured') : t('dashboard.watch.notReported');
    setText('watch-waiting', watch ? t('dashboard.off') : '');
    setText('watch-summary', watch ? t('dashboard.watch.summaryOff') : '');
    setText('watch-failed', '');
    setText('watch-failed-sub', watch ? t('dashboard.watch.noFolder') : '');
    byId('watch-note').textContent = '';
    return;
  }
  folders.forEach(function (folder) { body.appendChild(watchRow(folder)); });
  const failed = sumOf(folders, 'failed');
  setText('watch-waiting', formatNumber(sumOf(folders, 'waiting')));
  setText('watch-summary', t('dashboard.watch.summary', {
    imported: formatNumber(sumOf(folders, 'imported')), duplicates: formatNumber(sumOf(folders, 'duplicates'))
  }));
  setText('watch-failed', formatNumber(failed));
  let lastError = '';
  folders.forEach(function (f) { if (!lastError && f.last_error) lastError = String(f.last_error); });
  const short = lastError.length > 90 ? lastError.slice(0, 89) + '\u2026' : lastError;
  const sub = setText('watch-failed-sub', lastError ? t('dashboard.watch.lastError', { error: short })
    : (failed > 0 ? t('dashboard.watch.seeFailed') : t('dashboard.watch.noFailed')));
  if (sub) sub.title = lastError;
  byId('watch-note').textContent = t('dashboard.watch.folders', { count: folders.length });
}

function studyRow(study) {
  const name = formatPatientName(study.patient_name);
  let nameNode;
  if (!name) {
    nameNode = el('span', { className: 'hb-muted', text: t('common.noName') });
  } else if (typeof study.orthanc_id === 'string' && ORTHANC_ID.test(study.orthanc_id)) {
    nameNode = el('a', {
      text: name,
      attrs: { href: '/app/explorer.html#study?uuid=' + encodeURIComponent(study.orthanc_id), title: t('common.openInExplorer') }
    });
  } else {
    nameNode = el('span', { text: name });
  }

  const modalities = Array.isArray(study.modalities) ? study.modalities.filter(Boolean).join(', ') : '';
  const received = el('time', {
    text: formatDateTime(study.last_received),
    attrs: {
      datetime: study.last_received ? String(study.last_received) : null,
      title: study.first_received ? t('dashboard.firstReceived', { time: formatDateTime(study.first_received) }) : null
    }
  });
  const bare = { bare: true };
  return el('tr', {}, [
    cell(t('dashboard.col.studyDate'), formatStudyDate(study.study_date, study.study_time), 'hb-nowrap', bare),
    cell(t('dashboard.col.patient'), nameNode, 'hb-strong', bare),
    cell(t('dashboard.col.patientId'), study.patient_id ? String(study.patient_id) : '', '', bare),
    cell(t('dashboard.col.modality'), modalities, '', bare),
    cell(t('dashboard.col.description'), [study.description ? el('span', { text: String(study.description) }) : null,
      restrictedBadge(study), mayView ? viewerLink(study.study_uid) : null].filter(Boolean), '', bare),
    cell(t('dashboard.col.series'), formatNumber(study.series_count), 'hb-num', bare),
    cell(t('dashboard.col.instances'), formatNumber(study.instance_count), 'hb-num', bare),
    cell(t('dashboard.col.received'), study.last_received ? received : '', 'hb-nowrap', bare)
  ]);
}

function renderStudies(result, system) {
  const studies = (result && Array.isArray(result.studies)) ? result.studies : [];
  const total = result && typeof result.total === 'number' ? result.total : studies.length;
  const body = clear(byId('studies-body'));
  const wrap = byId('studies-wrap');
  const empty = byId('studies-empty');

  if (studies.length === 0) {
    wrap.hidden = true;
    clear(empty);
    const aet = (system && system.orthanc && system.orthanc.dicom_aet) ? String(system.orthanc.dicom_aet) : '?';
    appendChildren(empty, tParts('dashboard.noStudies', {
      aet: el('strong', { text: aet }),
      explorer: el('a', { text: t('nav.explorer'), attrs: { href: '/app/explorer.html' } })
    }));
    empty.hidden = false;
    byId('studies-summary').textContent = '';
    return;
  }

  studies.forEach(function (study) {
    if (study && typeof study === 'object') body.appendChild(studyRow(study));
  });
  empty.hidden = true;
  wrap.hidden = false;
  byId('studies-summary').textContent = t('dashboard.studiesSummary', {
    shown: formatNumber(studies.length), count: total, total: formatNumber(total)
  });
}

function showStatus() {
  byId('refresh-status').textContent = refreshStatusText(paused, lastSuccess, REFRESH_MS);
}

// initLayout already fetches /bridge/system: the first refresh reuses that answer.
let initial = initLayout({ page: 'dashboard', title: t('nav.dashboard') });
initial.catch(function () { /* reported by refresh() */ });

// Both calls run in parallel; each part of the page is updated on its own, so one
// failing call does not blank the other.
async function refresh() {
  const systemCall = initial || loadSystem();
  initial = null;
  mayView = await viewerAvailable();
  const results = await Promise.all([
    settle(systemCall),
    settle(api('/bridge/studies', { query: { limit: STUDY_LIMIT } }))
  ]);
  const problems = [];
  if (results[0].ok) {
    lastSystem = results[0].value;
    renderSystem(lastSystem);
  } else {
    problems.push(t('dashboard.problem.system', { error: describeError(results[0].error) }));
  }
  if (results[1].ok) {
    renderStudies(results[1].value, lastSystem);
  } else {
    problems.push(t('dashboard.problem.studies', { error: describeError(results[1].error) }));
  }
  if (problems.length === 0) {
    lastSuccess = new Date();
    showAlert('dashboard-error', '');
  } else {
    showAlert('dashboard-error', loadProblemsText(problems, lastSuccess));
  }
  showStatus();
}

startPolling(refresh, {
  intervalMs: REFRESH_MS,
  onPause: function (value) { paused = value; showStatus(); }
});
