/*
 * Federation search: one patient's studies at every connected hospital.
 *   GET  /bridge/system                      (layout; the caller's role decides whether "Retrieve" shows)
 *   GET  /bridge/federation/query?national_id=|patient_id=|local_patient_id=
 *   GET  /bridge/federation/retrieve         (jobs already running for the studies shown)
 *   POST /bridge/federation/retrieve {site, study_uid}
 *   GET  /bridge/federation/retrieve/{job_id} every second until succeeded / failed
 *   GET  /bridge/studies/{study_uid}         (after a retrieve: link to Orthanc Explorer)
 * Every server string (registry, DICOM, peer answers) reaches the DOM only via textContent / el().
 */
import { api, describeError } from '../lib/api.js';
import { byId, el, clear, setText } from '../lib/dom.js';
import { formatNumber, formatPatientName, formatRegistryName, formatSex, formatStudyDate, formatTime } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { initLayout } from '../lib/layout.js';
import { str, isObject, objects } from '../lib/text.js';
import { cell, restrictedBadge, showAlert } from '../lib/ui.js';
import { viewerAvailable, viewerLink } from '../lib/viewer.js';

let mayView = false;  // the viewer's roles, its files installed

const KINDS = ['national_id', 'patient_id', 'local_patient_id'];
const RETRIEVE_ROLES = ['admin', 'radiologist', 'technician'];
const STATUS_TONES = { ok: 'ok', timeout: 'warn', error: 'error', unauthorized: 'error' };
const POLL_MS = 1000;
const ORTHANC_ID = /^[0-9a-f]{8}(-[0-9a-f]{8}){4}$/i;

const form = byId('fed-form');
const kindSelect = byId('fed-kind');
const valueInput = byId('fed-value');
const valueLabel = byId('fed-value-label');
const submit = byId('fed-submit');
const statusLine = byId('fed-status');
const errorBox = byId('fed-error');

let system = null;
let searchSeq = 0;
let lastAnswer = null;
const jobs = {};       // study_uid -> {job, site, siteName, problem, explorerId}
let actionCells = {};  // study_uid -> {td, study, statusById} of the current table

function kindOf(value) {
  return KINDS.indexOf(value) !== -1 ? value : 'national_id';
}

function localSiteId() {
  return system && system.site && system.site.id ? String(system.site.id) : '';
}

function canRetrieve() {
  const role = system && system.user ? system.user.role : '';
  return RETRIEVE_ROLES.indexOf(role) !== -1;
}

/* ------------------------------------------------------------------ form */

function applyKind() {
  const kind = kindOf(kindSelect.value);
  valueLabel.textContent = t('federation.kind.' + kind + '.label');
  valueInput.setAttribute('placeholder', t('federation.kind.' + kind + '.placeholder'));
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
  const value = valueInput.value.trim();
  if (!value) {
    valueInput.setAttribute('aria-invalid', 'true');
    showAlert(errorBox, t('federation.enterValue', { what: t('federation.kind.' + kindOf(kindSelect.value) + '.describe') }));
    valueInput.focus();
    return;
  }
  valueInput.removeAttribute('aria-invalid');
  const params = new URLSearchParams();
  params.set(kindSelect.value, value);
  try { window.history.replaceState(null, '', '?' + params.toString()); } catch (e) { /* ignore */ }
  search(kindSelect.value, value);
});

/* ---------------------------------------------------------------- search */

async function search(kind, value) {
  const seq = ++searchSeq;
  const what = t('federation.kind.' + kindOf(kind) + '.describe');
  showAlert(errorBox, '');
  submit.disabled = true;
  submit.textContent = t('federation.searching');
  form.setAttribute('aria-busy', 'true');
  statusLine.textContent = t('federation.asking', { what: what, value: value });
  const started = Date.now();
  const query = {};
  query[kind] = value;
  try {
    const answer = await api('/bridge/federation/query', { query: query, timeoutMs: 120000 });
    if (seq !== searchSeq) return;
    await systemReady;
    mayView = await viewerAvailable();
    lastAnswer = isObject(answer) ? answer : {};
    render(lastAnswer);
    statusLine.textContent = t('federation.results', {
      what: what, value: value, seconds: ((Date.now() - started) / 1000).toFixed(1), time: formatTime(new Date())
    });
    loadRunningJobs();
  } catch (e) {
    if (seq !== searchSeq) return;
    statusLine.textContent = '';
    if (e.status === 400) {
      showAlert(errorBox, t('federation.notAccepted', { detail: e.detail || e.message }));
      valueInput.setAttribute('aria-invalid', 'true');
    } else if (e.status === 404) {
      showAlert(errorBox, t('federation.notFound', { error: describeError(e) }));
      valueInput.setAttribute('aria-invalid', 'true');
    } else {
      showAlert(errorBox, t('federation.failed', { error: describeError(e) }));
    }
  } finally {
    if (seq === searchSeq) {
      submit.disabled = false;
      submit.textContent = t('federation.search');
      form.setAttribute('aria-busy', 'false');
    }
  }
}

function render(answer) {
  renderPatient(answer.patient);
  const sites = objects(answer.sites);
  renderSites(sites, answer);
  renderStudies(objects(answer.studies), sites, answer);
  byId('fed-results').hidden = false;
}

function renderPatient(patient) {
  const none = byId('fed-patient-none');
  const dl = byId('fed-patient-dl');
  const link = byId('fed-registry-link');
  if (!isObject(patient)) {
    none.hidden = false;
    dl.hidden = true;
    link.hidden = true;
    return;
  }
  none.hidden = true;
  dl.hidden = false;
  let name = formatRegistryName(patient.first_name, patient.last_name);
  if (!name && patient.name) {
    name = str(patient.name).indexOf('^') !== -1 ? formatPatientName(patient.name) : str(patient.name);
  }
  setText('fed-patient-name', name);
  setText('fed-patient-nid', patient.national_id);
  setText('fed-patient-birth', patient.date_of_birth);
  setText('fed-patient-sex', formatSex(patient.gender));
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
  const list = clear(byId('fed-sites'));
  const here = localSiteId();
  sites.forEach(function (site) {
    const known = Object.prototype.hasOwnProperty.call(STATUS_TONES, site.status);
    const tone = known ? STATUS_TONES[site.status] : 'error';
    const label = known ? t('federation.status.' + site.status) : (str(site.status) || t('common.unknown'));
    const meta = [];
    if (typeof site.latency_ms === 'number') meta.push(t('federation.latency', { ms: formatNumber(Math.round(site.latency_ms)) }));
    if (site.status === 'ok' || typeof site.count === 'number' && site.count > 0) {
      const count = typeof site.count === 'number' ? site.count : 0;
      meta.push(t('federation.studyCount', { count: count }));
    }
    const isHere = here && str(site.id) === here;
    list.appendChild(el('li', {
      className: 'hb-site-status hb-site-status-' + tone,
      attrs: { title: site.detail ? str(site.detail) : null }
    }, [
      el('div', { className: 'hb-site-status-head' }, [
        el('span', { className: 'hb-site-status-name', text: str(site.name) || str(site.id) || t('federation.unnamedSite') }),
        el('span', { className: 'hb-badge hb-badge-' + tone, text: label })
      ]),
      el('p', { className: 'hb-site-status-meta' }, [
        el('span', { className: 'hb-muted', text: str(site.id) }),
        isHere ? el('span', { className: 'hb-chip hb-chip-local', text: t('common.thisSite') }) : null,
        meta.length ? el('span', { text: meta.join(' \u00b7 ') }) : null
      ]),
      site.detail ? el('p', { className: 'hb-site-status-detail', text: str(site.detail) }) : null
    ]));
  });
  if (sites.length === 0) list.appendChild(el('li', { className: 'hb-muted', text: t('federation.noSiteAnswered') }));
  let ok = countOf(answer.hospitals_accessed);
  if (ok === null) ok = sites.filter(function (s) { return s.status === 'ok'; }).length;
  const failed = sites.filter(function (s) { return s.status !== 'ok'; }).length;
  byId('fed-sites-summary').textContent = t('federation.sitesAnswered', { ok: formatNumber(ok), total: formatNumber(sites.length) }) +
    (failed ? ' \u00b7 ' + t('federation.sitesFailed', { failed: formatNumber(failed) }) : '');
}

function studySites(study) {
  let list = objects(study.sites);
  if (list.length === 0 && (study.site_id || study.site_name)) list = [{ id: study.site_id, name: study.site_name }];
  return list;
}

function sortKey(study) {
  return (study.date ? str(study.date) : '0000-00-00') + ' ' + (study.time ? str(study.time) : '');
}

function renderStudies(studies, sites, answer) {
  const body = clear(byId('fed-studies-body'));
  const wrap = byId('fed-studies-wrap');
  const empty = byId('fed-empty');
  actionCells = {};
  if (studies.length === 0) {
    wrap.hidden = true;
    empty.hidden = false;
    byId('fed-studies-summary').textContent = '';
    return;
  }
  // Newest first (the server already sorts; a stable sort keeps its order for ties).
  const sorted = studies.map(function (s, i) { return { s: s, i: i }; });
  sorted.sort(function (a, b) {
    const ka = sortKey(a.s);
    const kb = sortKey(b.s);
    if (ka !== kb) return ka < kb ? 1 : -1;
    return a.i - b.i;
  });
  const statusById = {};
  sites.forEach(function (s) { statusById[str(s.id)] = s.status; });
  sorted.forEach(function (entry) { body.appendChild(studyRow(entry.s, statusById)); });
  empty.hidden = true;
  wrap.hidden = false;
  const total = typeof answer.total_studies === 'number' ? answer.total_studies : studies.length;
  const here = studies.filter(function (s) { return s.local === true; }).length;
  byId('fed-studies-summary').textContent = t('federation.studiesSummary', { count: total, here: formatNumber(here) });
}

function studyRow(study, statusById) {
  const here = localSiteId();
  const chips = el('ul', { className: 'hb-chips' });
  studySites(study).forEach(function (site) {
    const isHere = here && str(site.id) === here;
    chips.appendChild(el('li', {
      className: 'hb-chip' + (isHere ? ' hb-chip-local' : ''),
      attrs: { title: site.id ? t('federation.siteTitle', { id: str(site.id) }) : null }
    }, [str(site.name) || str(site.id), isHere ? el('span', { className: 'hb-chip-note', text: ' ' + t('federation.thisSiteNote') }) : null]));
  });
  const modalities = Array.isArray(study.modalities) && study.modalities.length
    ? study.modalities.filter(Boolean).map(str).join(', ') : str(study.modality);
  const description = str(study.description);
  let descNode = description ? [el('span', { text: description })] : null;
  if (descNode && study.accession_number) {
    descNode.push(el('span', { className: 'hb-subtext', text: t('federation.accession', { number: str(study.accession_number) }) }));
  }
  // Patient without federation consent (optional field; absent = nothing shown).
  const restricted = restrictedBadge(study);
  if (restricted) {
    descNode = descNode || [];
    descNode.push(restricted);
  }
  const action = el('td', { className: 'hb-action-cell', attrs: { 'data-label': t('federation.col.atThisSite') } });
  const actionBox = el('div', { className: 'hb-cell' });
  action.appendChild(actionBox);
  const uid = str(study.study_uid);
  actionCells[uid] = { td: actionBox, study: study, statusById: statusById };
  renderAction(uid);
  return el('tr', {}, [
    cell(t('federation.col.studyDate'), formatStudyDate(str(study.date), str(study.time)), 'hb-nowrap'),
    cell(t('federation.col.site'), chips.childNodes.length ? chips : ''),
    cell(t('federation.col.modality'), modalities),
    cell(t('federation.col.description'), descNode),
    cell(t('federation.col.series'), formatNumber(study.series_count), 'hb-num'),
    cell(t('federation.col.instances'), formatNumber(study.instance_count), 'hb-num'),
    action
  ]);
}

// The remote site to copy from: one that answered, not this one.
function sourceSite(study, statusById) {
  const here = localSiteId();
  const remote = studySites(study).filter(function (s) { return s.id && str(s.id) !== here; });
  const answered = remote.filter(function (s) { return statusById[str(s.id)] === 'ok'; });
  let pick = answered[0] || remote[0];
  if (!pick && study.site_id && str(study.site_id) !== here) pick = { id: study.site_id, name: study.site_name };
  return pick ? { id: str(pick.id), name: str(pick.name) || str(pick.id) } : null;
}

/* -------------------------------------------------------------- retrieve */

function renderAction(uid) {
  const entry = actionCells[uid];
  if (!entry) return;
  const td = clear(entry.td);
  const study = entry.study;
  const state = jobs[uid];
  if (state && state.job && state.job.state === 'succeeded') study.local = true;

  if (study.local === true && !(state && state.job)) {
    td.appendChild(el('span', { className: 'hb-badge hb-badge-ok', text: t('federation.heldHere') }));
    // Studies held here open in the viewer; others must be retrieved first.
    if (mayView) td.appendChild(viewerLink(uid));
    return;
  }
  if (state && state.job) {
    renderJob(td, uid, state);
    return;
  }
  const source = canRetrieve() ? sourceSite(study, entry.statusById) : null;
  if (!source) {
    td.appendChild(el('span', { className: 'hb-muted', text: t('federation.notHeldHere') }));
    return;
  }
  const button = el('button', {
    className: 'hb-button hb-button-small hb-no-print',
    text: state && state.problem ? t('federation.retry') : t('federation.retrieve'),
    attrs: { type: 'button', title: t('federation.retrieveTitle', { site: source.name }) }
  });
  button.addEventListener('click', function () { startRetrieve(uid, source, button); });
  td.appendChild(button);
  td.appendChild(el('span', { className: 'hb-subtext', text: t('federation.from', { site: source.name }) }));
  if (state && state.problem) {
    td.appendChild(el('span', { className: 'hb-subtext hb-text-error', attrs: { role: 'alert' }, text: state.problem }));
  }
}

function renderJob(td, uid, state) {
  const job = state.job;
  const total = typeof job.instances_total === 'number' ? job.instances_total : 0;
  const done = typeof job.instances_done === 'number' ? job.instances_done : 0;
  const skipped = typeof job.instances_skipped === 'number' ? job.instances_skipped : 0;
  const from = state.siteName || str(job.site);
  const counts = total > 0
    ? t('federation.job.counts', { done: formatNumber(done), total: formatNumber(total) }) +
      (skipped ? ' ' + t('federation.job.skipped', { skipped: formatNumber(skipped) }) : '')
    : '';
  const wrap = el('div', { className: 'hb-job', attrs: { 'aria-live': 'polite' } });
  td.appendChild(wrap);

  if (job.state === 'succeeded') {
    wrap.appendChild(el('span', { className: 'hb-badge hb-badge-ok', text: t('federation.job.retrieved') }));
    if (counts) wrap.appendChild(el('span', { className: 'hb-subtext', text: counts }));
    if (state.explorerId) {
      wrap.appendChild(el('a', {
        className: 'hb-subtext hb-no-print', text: t('federation.job.openExplorer'),
        attrs: { href: '/app/explorer.html#study?uuid=' + encodeURIComponent(state.explorerId) }
      }));
    }
    return;
  }
  if (job.state === 'failed') {
    wrap.appendChild(el('span', { className: 'hb-badge hb-badge-error', text: t('federation.job.failed') }));
    wrap.appendChild(el('span', { className: 'hb-subtext hb-text-error', text: str(job.error) || t('federation.job.failedText') }));
    if (counts) wrap.appendChild(el('span', { className: 'hb-subtext', text: counts }));
    if (canRetrieve()) {
      const retry = el('button', { className: 'hb-button hb-button-small hb-no-print', text: t('federation.retry'), attrs: { type: 'button' } });
      retry.addEventListener('click', function () { startRetrieve(uid, { id: str(job.site), name: from }, retry); });
      wrap.appendChild(retry);
    }
    return;
  }
  // pending or running
  wrap.appendChild(el('span', {
    className: 'hb-badge hb-badge-info',
    text: job.state === 'pending' ? t('federation.job.waiting') : t('federation.job.running')
  }));
  const progress = el('progress', {
    className: 'hb-progress',
    attrs: { max: String(total > 0 ? total : 1), 'aria-label': t('federation.job.progress') }
  });
  if (total > 0) progress.value = Math.min(done, total);
  else progress.removeAttribute('value');   // indeterminate until the peer said how many
  wrap.appendChild(progress);
  wrap.appendChild(el('span', { className: 'hb-subtext', text: counts || t('federation.from', { site: from }) }));
  if (state.problem) wrap.appendChild(el('span', { className: 'hb-subtext hb-text-error', text: state.problem }));
}

async function startRetrieve(uid, source, button) {
  button.disabled = true;
  button.textContent = t('federation.starting');
  const state = jobs[uid] || {};
  jobs[uid] = state;
  state.problem = '';
  state.site = source.id;
  state.siteName = source.name;
  try {
    const job = await api('/bridge/federation/retrieve', { method: 'POST', body: { site: source.id, study_uid: uid } });
    if (!isObject(job) || !job.job_id) throw new Error(t('federation.noJob'));
    state.job = job;
    renderAction(uid);
    poll(uid);
  } catch (e) {
    state.job = null;
    state.problem = e.status === 403 ? t('federation.roleMayNot') : t('federation.couldNotStart', { error: describeError(e) });
    renderAction(uid);
  }
}

function isFinished(job) {
  return job && (job.state === 'succeeded' || job.state === 'failed');
}

function poll(uid) {
  const state = jobs[uid];
  if (!state || !state.job || state.polling) return;
  state.polling = true;
  let failures = 0;
  async function tick() {
    if (!state.job || isFinished(state.job)) { state.polling = false; return; }
    try {
      const job = await api('/bridge/federation/retrieve/' + encodeURIComponent(str(state.job.job_id)));
      if (isObject(job)) state.job = job;
      state.problem = '';
      failures = 0;
    } catch (e) {
      failures += 1;
      if (e.status === 404) {
        state.problem = t('federation.jobGone');
        state.job = null;
        state.polling = false;
        renderAction(uid);
        return;
      }
      state.problem = t('federation.progressFailed', { message: e.message });
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
  const entry = actionCells[uid];
  if (entry) entry.study.local = true;
}

// The retrieved study, in the local index, to link it in Orthanc Explorer (a few tries:
// the index is filled a moment after the instances arrive).
async function findLocalStudy(uid, state) {
  for (let attempt = 0; attempt < 5 && !state.explorerId; attempt++) {
    try {
      const study = await api('/bridge/studies/' + encodeURIComponent(uid));
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
  let answer;
  try {
    answer = await api('/bridge/federation/retrieve');
  } catch (e) {
    return; // optional information
  }
  const list = answer && Array.isArray(answer.jobs) ? answer.jobs : [];
  list.forEach(function (job) {
    if (!isObject(job) || !job.study_uid || !job.job_id) return;
    const uid = str(job.study_uid);
    if (!actionCells[uid] || isFinished(job)) return;    // newest first: the first one wins
    if (jobs[uid] && jobs[uid].job) return;
    jobs[uid] = { job: job, site: str(job.site), siteName: siteName(job.site), problem: '' };
    renderAction(uid);
    poll(uid);
  });
}

function siteName(id) {
  const sites = lastAnswer && Array.isArray(lastAnswer.sites) ? lastAnswer.sites : [];
  for (let i = 0; i < sites.length; i++) {
    if (isObject(sites[i]) && str(sites[i].id) === str(id)) return str(sites[i].name) || str(id);
  }
  return str(id);
}

/* ------------------------------------------------------------------ start */

const systemReady = initLayout({ page: 'federation', title: t('federation.title') }).then(function (s) {
  system = s;
}, function (e) {
  showAlert(errorBox, t('common.sessionFailed', { error: describeError(e) }));
});

const params = new URLSearchParams(window.location.search);
let initialKind = null;
KINDS.forEach(function (kind) {
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
