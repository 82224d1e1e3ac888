/*
 * "Who saw my images": the access report a clerk prints and hands to the patient (?id=PAT-…).
 *   GET /bridge/system                        (layout; hospital name, who prints)
 *   GET /bridge/patients/{id}/access-report   (admin, reception) → {patient, events}
 *   GET /bridge/patients/{id}                 (optional: study descriptions, demographics fallback)
 *   GET /bridge/sites                         (optional: site names for site IDs)
 * Actor names, site names and study descriptions are attacker-controllable: they reach the DOM
 * only via textContent / el(). Layout: A4 print (css: .hb-report-page), screen 1366 and phones.
 */
import { api, describeError } from '../lib/api.js';
import { byId, el, clear, setText, setAttr } from '../lib/dom.js';
import { formatPatientName, formatRegistryName } from '../lib/format.js';
import { t, has } from '../lib/i18n.js';
import { initLayout, roleLabel } from '../lib/layout.js';
import { str, isObject, objects, capitalize } from '../lib/text.js';
import { cell, showAlert } from '../lib/ui.js';

const PLAIN_ACTIONS = {
  'study.viewed': 'report.action.viewed',
  'study.downloaded': 'report.action.downloaded',
  'study.exported': 'report.action.exported',
  'study.modified': 'report.action.modified',
  'study.deleted': 'report.action.deleted',
  'federation.query.answered': 'report.action.queryAnswered',
  'federation.query.sent': 'report.action.querySent',
  'dicom.stored': 'report.action.stored',
  'share.created': 'report.action.shareCreated',
  'share.accessed': 'report.action.shareOpened',
  'share.viewed': 'report.action.shareOpened',
  'share.opened': 'report.action.shareOpened',
  'share.downloaded': 'report.action.shareDownloaded',
  'share.revoked': 'report.action.shareRevoked'
};

const params = new URLSearchParams(window.location.search);
const patientId = (params.get('id') || '').trim();
let system = null;
const sitesById = {};
const studiesByUid = {};
let reportSite = null;   // the access report's own "site", when /bridge/system is not at hand

function localSite() {
  if (system && isObject(system.site)) return system.site;
  return isObject(reportSite) ? reportSite : {};
}

/* -------------------------------------------------------------- wording */

// What happened, in words a patient understands (the server's own "what" for actions unknown here).
function plainAction(action, kind, serverWords) {
  action = str(action);
  if (action === 'federation.retrieve') return t(kind === 'peer' ? 'report.action.retrievedByPeer' : 'report.action.retrievedHere');
  if (PLAIN_ACTIONS[action]) return t(PLAIN_ACTIONS[action]);
  if (action.indexOf('share.') === 0) return t('report.action.shared');
  if (serverWords && serverWords !== 'other') return capitalize(serverWords);
  return action || t('report.action.unknown');
}

function plainOutcome(outcome) {
  outcome = str(outcome);
  if (!outcome || outcome === 'success') return '';
  if (outcome === 'denied') return t('report.outcome.denied');
  if (outcome === 'failure') return t('report.outcome.failure');
  return t('report.outcome.other', { outcome: outcome });
}

// Peer accounts are usually named after their site's ID, in any case ("hos-002" for HOS-002).
function siteById(id) {
  if (sitesById[id]) return sitesById[id];
  const lower = String(id).toLowerCase();
  let found = null;
  Object.keys(sitesById).forEach(function (k) { if (!found && k.toLowerCase() === lower) found = sitesById[k]; });
  return found;
}

// {id, name} | "name or id" → a site name for people.
function siteName(site) {
  if (isObject(site)) {
    if (site.name) return str(site.name);
    site = site.id;
  }
  site = str(site);
  if (!site) return '';
  const known = siteById(site);
  if (known && known.name) return str(known.name);
  if (localSite().id && site === str(localSite().id)) return str(localSite().name) || site;
  return site;
}

function plainRole(role) {
  return has('report.role.' + role) ? t('report.role.' + role) : roleLabel(role);
}

function who(ev) {
  const actor = isObject(ev.actor) ? ev.actor : { name: str(ev.actor) };
  const kind = str(actor.kind);
  const role = str(actor.role) || (kind === 'peer' ? 'peer' : '');
  let site = siteName(actor.site) || siteName(actor.site_name) || siteName(actor.site_id) ||
    siteName(ev.site) || siteName(ev.site_name) || siteName(ev.site_id);
  const name = str(actor.name);
  if (kind === 'peer' && !site && siteById(name)) site = siteName(name);
  if (!site && (kind === 'user' || kind === '' || kind === 'system')) site = str(localSite().name);
  const lines = [];
  if (kind === 'share') {
    lines.push(el('span', { className: 'hb-strong', text: t('report.who.shareLink') }));
    if (name) lines.push(el('span', { className: 'hb-subtext', text: name }));
  } else if (kind === 'peer') {
    lines.push(el('span', { className: 'hb-strong', text: site || name || t('report.who.anotherHospital') }));
    lines.push(el('span', {
      className: 'hb-subtext',
      text: site && name && name !== site ? t('report.who.anotherHospitalNamed', { name: name }) : t('report.who.anotherHospital')
    }));
    return lines;
  } else if (kind === 'system') {
    lines.push(el('span', { className: 'hb-strong', text: t('report.who.system') }));
  } else {
    lines.push(el('span', { className: 'hb-strong', text: name || t('report.who.unknown') }));
  }
  const meta = [];
  if (role && kind !== 'share' && kind !== 'system') meta.push(plainRole(role));
  if (site) meta.push(site);
  if (meta.length) lines.push(el('span', { className: 'hb-subtext', text: meta.join(', ') }));
  return lines;
}

// Local date, then time, on two lines.
function whenNode(iso) {
  const d = new Date(iso);
  if (!iso || isNaN(d.getTime())) return el('span', { text: str(iso) || '\u2014' });
  return el('time', { attrs: { datetime: str(iso) } }, [
    el('span', { className: 'hb-nowrap', text: d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' }) }),
    el('span', { className: 'hb-subtext', text: d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) })
  ]);
}

function whichStudy(ev) {
  const study = isObject(ev.study) ? ev.study : {};
  const uid = str(study.study_uid) || str(ev.study_uid) || (typeof ev.study === 'string' ? ev.study : '');
  const known = studiesByUid[uid] || {};
  const description = str(study.description) || str(ev.study_description) || str(known.description);
  const date = str(study.study_date) || str(study.date) || str(ev.study_date) || str(known.study_date);
  let modalities = study.modalities || ev.modalities || known.modalities;
  modalities = Array.isArray(modalities) ? modalities.filter(Boolean).map(str).join(', ') : str(study.modality || modalities || '');
  // "CT — Chest"; no "MR — MR Knee" when the description already names the modality.
  const named = modalities && description && modalities.split(', ').every(function (m) {
    return (' ' + description.toUpperCase() + ' ').indexOf(' ' + m.toUpperCase() + ' ') !== -1;
  });
  const head = named ? description : [modalities, description].filter(Boolean).join(' \u2014 ');
  const lines = [];
  if (head) lines.push(el('span', { text: head }));
  if (date) lines.push(el('span', { className: head ? 'hb-subtext' : '', text: t('report.takenOn', { date: date }) }));
  // The UID means nothing to a patient: only when nothing else identifies the study.
  if (uid && !head && !date) lines.push(el('span', { className: 'hb-subtext hb-id hb-uid', text: t('report.studyUid', { uid: uid }) }));
  if (!lines.length) lines.push(el('span', { className: 'hb-muted', text: t('report.allImages') }));
  return lines;
}

/* -------------------------------------------------------------- render */

function renderPatient(reportPatient, record) {
  const p = isObject(reportPatient) ? reportPatient : {};
  const r = isObject(record) ? record : {};
  let name = formatRegistryName(p.first_name || r.first_name, p.last_name || r.last_name);
  if (!name && p.name) name = str(p.name).indexOf('^') !== -1 ? formatPatientName(p.name) : str(p.name);
  setText('r-name', name);
  setText('r-national-id', str(p.national_id) || str(r.national_id) || t('report.noNationalId'));
  setText('r-dob', str(p.date_of_birth) || str(r.date_of_birth));
  setText('r-id', str(p.id) || str(r.id) || patientId);
  // Printed atop the table on every page, so a loose page still says whose report it is.
  const nid = str(p.national_id) || str(r.national_id);
  byId('r-repeat').textContent = t('report.repeat', { who: name || str(p.id) || patientId }) +
    (nid ? ' \u00b7 ' + t('report.repeatNationalId', { id: nid }) : '') + ' \u00b7 ' + (str(localSite().name) || t('report.thisHospital'));
  return name;
}

function renderEvents(events) {
  const body = clear(byId('r-body'));
  const sorted = events.map(function (ev, i) { return { ev: ev, i: i }; });
  sorted.sort(function (a, b) {
    const ta = str(a.ev.time);
    const tb = str(b.ev.time);
    return ta === tb ? a.i - b.i : (ta < tb ? 1 : -1);
  });
  const always = { always: true };
  sorted.forEach(function (x) {
    const ev = x.ev;
    const actor = isObject(ev.actor) ? ev.actor : {};
    const what = [el('span', { text: plainAction(ev.action, str(actor.kind), str(ev.what)) })];
    const outcome = plainOutcome(ev.outcome);
    if (outcome) what.push(el('span', { className: 'hb-subtext hb-report-refused', text: outcome }));
    body.appendChild(el('tr', { className: outcome ? 'hb-row-warn' : '' }, [
      cell(t('report.col.when'), whenNode(ev.time), '', always),
      cell(t('report.col.who'), who(ev), '', always),
      cell(t('report.col.what'), what, '', always),
      cell(t('report.col.study'), whichStudy(ev), '', always)
    ]));
  });
  byId('r-wrap').hidden = events.length === 0;
  byId('r-empty').hidden = events.length !== 0;
  byId('r-count').textContent = events.length === 0 ? '' : t('report.count', { count: events.length });
}

function renderHeader() {
  const site = localSite();
  const hospital = str(site.name) || t('report.thisHospitalTitle');
  byId('r-hospital').textContent = hospital;
  byId('r-intro').textContent = t('report.intro', { hospital: hospital });
  const now = new Date();
  setText('r-printed', now.toLocaleDateString(undefined, { year: 'numeric', month: 'long', day: 'numeric' }));
  const user = system && isObject(system.user) ? str(system.user.username) : '';
  const when = now.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  byId('r-printed-by').textContent = (user ? t('report.preparedBy', { time: when, user: user }) : t('report.prepared', { time: when })) +
    ' \u00b7 ' + hospital + (site.id ? ' (' + str(site.id) + ')' : '');
}

function optional(promise) {
  return promise.then(function (v) { return v; }, function () { return null; });
}

async function load() {
  const path = '/bridge/patients/' + encodeURIComponent(patientId);
  const layout = initLayout({ page: 'patients', title: t('report.titleFor', { id: patientId }) });
  let results;
  try {
    results = await Promise.all([
      api(path + '/access-report', { timeoutMs: 60000 }),
      optional(api(path)),
      optional(api('/bridge/sites')),
      layout.then(function (s) { system = s; return s; }, function () { return null; })
    ]);
  } catch (e) {
    byId('report-loading').hidden = true;
    if (e.status === 403) showAlert('report-error', t('report.forbidden'));
    else if (e.status === 404) showAlert('report-error', t('report.noEntry', { id: patientId }));
    else showAlert('report-error', t('report.loadFailed', { error: describeError(e) }));
    return;
  }
  const report = isObject(results[0]) ? results[0] : {};
  reportSite = report.site;
  const record = isObject(results[1]) ? results[1] : null;
  const sites = results[2] ? objects(results[2].sites) : [];
  sites.forEach(function (s) { sitesById[str(s.id)] = s; });
  if (record) objects(record.studies).forEach(function (s) { studiesByUid[str(s.study_uid)] = s; });
  renderHeader();
  const name = renderPatient(report.patient, record);
  renderEvents(objects(report.events));
  document.title = t('report.title') + (name ? ' \u2014 ' + name : '') + (localSite().name ? ' \u2014 ' + str(localSite().name) : '');
  byId('report-loading').hidden = true;
  byId('report').hidden = false;
  byId('print-button').disabled = false;
}

byId('print-button').addEventListener('click', function () { window.print(); });

if (!patientId) {
  initLayout({ page: 'patients', title: t('report.title') }).catch(function () { /* shown below */ });
  byId('report-loading').hidden = true;
  showAlert('report-error', t('report.noPatient'));
} else {
  setAttr(byId('back-link'), 'href', '/bridge/app/patients.html?id=' + encodeURIComponent(patientId));
  load();
}
