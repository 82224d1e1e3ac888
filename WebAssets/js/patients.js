/*
 * Patients: the registry (list, search, new entry) and one entry (?id=PAT-…).
 *   GET  /bridge/system                         (layout)
 *   GET  /bridge/patients?national_id=&name=&birth_date=&status=&limit=&offset=
 *   GET  /bridge/patients?status=unlinked&limit=1   (how many entries still need linking)
 *   POST /bridge/patients                       (new entry)
 *   GET  /bridge/patients/{id}                  (entry + studies + discrepancies + merges)
 *   PUT  /bridge/patients/{id}                  (changed demographics only)
 *   POST /bridge/patients/{id}/identifiers      {site_id, patient_id, issuer}
 *   POST /bridge/patients/{id}/merge            {from, reason}   (after a confirmation dialog)
 *   GET  /bridge/sites                          (site names, the "Add identifier" choice)
 *   GET  /bridge/patients/{id}/consents         (current decision per kind + history)
 *   POST /bridge/patients/{id}/consents         {kind, decision, method, valid_from?, valid_until?, note?,
 *                                                attachment? (base64), attachment_type?}; "Revoke" = a deny
 *   /bridge/patients/{id}/consents/{cid}/attachment   (link to the scan)
 *   access-report.html?id=… link (admin, reception)
 * Every server string (registry, DICOM) reaches the DOM only via textContent / el().
 * Discrepancies between DICOM and the registry are shown, never corrected automatically.
 */
import { api, describeError } from '../lib/api.js';
import { byId, el, clear, setText, appendChildren } from '../lib/dom.js';
import {
  formatDateTime, formatNumber, formatPatientName, formatRegistryName, formatSex, formatStudyDate, localDay
} from '../lib/format.js';
import { t, tParts } from '../lib/i18n.js';
import { initLayout } from '../lib/layout.js';
import { str, isObject, objects } from '../lib/text.js';
import { cell, confirmDialog, restrictedBadge, setMessage, showAlert } from '../lib/ui.js';
import { viewerAvailable, viewerLink } from '../lib/viewer.js';

let mayView = false;  // the viewer's roles, its files installed

const PAGE_SIZE = 25;
const ORTHANC_ID = /^[0-9a-f]{8}(-[0-9a-f]{8}){4}$/i;
const DETAIL = '/bridge/app/patients.html?id=';

const params = new URLSearchParams(window.location.search);
let system = null;
let sitesById = {};
let sitesList = [];

function patientName(p) {
  return formatRegistryName(p.first_name, p.last_name);
}

function detailUrl(id) {
  return DETAIL + encodeURIComponent(str(id));
}

function siteLabel(id) {
  const site = sitesById[str(id)];
  return site && site.name ? str(site.name) : str(id);
}

function statusBadge(p) {
  if (p.merged_into) return el('span', { className: 'hb-badge', text: t('patients.status.mergedInto', { id: str(p.merged_into) }) });
  if (p.status === 'unlinked') return el('span', { className: 'hb-badge hb-badge-warn', text: t('patients.status.unlinked') });
  if (p.status === 'registered') return el('span', { className: 'hb-badge hb-badge-ok', text: t('patients.status.registered') });
  return el('span', { className: 'hb-badge', text: str(p.status) || t('common.unknown') });
}

function loadSites() {
  return api('/bridge/sites').then(function (answer) {
    sitesList = answer ? objects(answer.sites) : [];
    sitesById = {};
    sitesList.forEach(function (s) { sitesById[str(s.id)] = s; });
    return sitesList;
  }, function () {
    return null;   // names fall back to site IDs
  });
}

/* ================================================================== list */

const listState = { offset: 0, total: 0, query: {} };
let sitesReady = null;
let listSeq = 0;

function readSearchForm() {
  const query = {
    national_id: byId('q-national-id').value.trim(),
    name: byId('q-name').value.trim(),
    birth_date: byId('q-birth-date').value,
    status: byId('q-status').value
  };
  Object.keys(query).forEach(function (k) { if (!query[k]) delete query[k]; });
  return query;
}

function writeUrl(query, offset) {
  const p = new URLSearchParams();
  Object.keys(query).forEach(function (k) { p.set(k, query[k]); });
  if (offset) p.set('offset', String(offset));
  const search = p.toString();
  try {
    window.history.replaceState(null, '', window.location.pathname + (search ? '?' + search : ''));
  } catch (e) { /* ignore */ }
}

async function loadList() {
  const seq = ++listSeq;
  const query = listState.query;
  showAlert('list-error', '');
  byId('results-summary').textContent = t('common.loading');
  const q = Object.assign({ limit: PAGE_SIZE, offset: listState.offset }, query);
  try {
    const answer = await api('/bridge/patients', { query: q });
    await sitesReady;   // site names for the identifier chips (null when unavailable)
    if (seq !== listSeq) return;
    renderList(answer || {});
  } catch (e) {
    if (seq !== listSeq) return;
    byId('results-summary').textContent = '';
    showAlert('list-error', t(e.status === 400 ? 'patients.searchRefused' : 'patients.loadFailed', { error: describeError(e) }));
  }
  loadUnlinkedCount();
}

function renderList(answer) {
  const patients = objects(answer.patients);
  const total = typeof answer.total === 'number' ? answer.total : patients.length;
  const offset = typeof answer.offset === 'number' ? answer.offset : listState.offset;
  listState.total = total;
  listState.offset = offset;
  const body = clear(byId('results-body'));
  patients.forEach(function (p) { body.appendChild(patientRow(p)); });
  byId('results-wrap').hidden = patients.length === 0;
  byId('results-empty').hidden = patients.length !== 0;
  const filtered = Object.keys(listState.query).length > 0;
  byId('results-empty').textContent = filtered ? t('patients.noMatch') : t('patients.registryEmpty');
  const range = { from: formatNumber(offset + 1), to: formatNumber(offset + patients.length), count: total };
  byId('results-summary').textContent = patients.length === 0 ? '' :
    t(filtered ? 'patients.summaryMatching' : 'patients.summary', range) +
    (listState.query.status === 'unlinked' ? ' ' + t('patients.summaryUnlinked') : '');
  byId('pager').hidden = total <= PAGE_SIZE && offset === 0;
  byId('page-prev').disabled = offset <= 0;
  byId('page-next').disabled = offset + patients.length >= total;
  byId('page-info').textContent = t('common.pageOf', {
    page: formatNumber(Math.floor(offset / PAGE_SIZE) + 1), pages: formatNumber(Math.max(1, Math.ceil(total / PAGE_SIZE)))
  });
}

function patientRow(p) {
  const url = detailUrl(p.id);
  const name = patientName(p);
  const link = el('a', { text: name || t('common.noName'), className: name ? '' : 'hb-muted', attrs: { href: url } });
  const ids = objects(p.identifiers);
  let chips = null;
  if (ids.length) {
    chips = el('ul', { className: 'hb-chips' });
    ids.slice(0, 3).forEach(function (ident) {
      chips.appendChild(el('li', {
        className: 'hb-chip', text: str(ident.site_id) + ': ' + str(ident.patient_id),
        attrs: { title: siteLabel(ident.site_id) + (ident.issuer ? ' \u00b7 ' + t('patients.issuer', { issuer: str(ident.issuer) }) : '') }
      }));
    });
    if (ids.length > 3) chips.appendChild(el('li', { className: 'hb-chip', text: t('patients.moreIds', { count: ids.length - 3 }) }));
  }
  const row = el('tr', {
    className: 'hb-row-link' + (p.status === 'unlinked' && !p.merged_into ? ' hb-row-unlinked' : '') +
      (p.merged_into ? ' hb-row-merged' : '')
  }, [
    cell(t('patients.col.name'), [link, el('span', { className: 'hb-subtext hb-id', text: str(p.id) })], 'hb-strong'),
    cell(t('patients.col.nationalId'), str(p.national_id) ||
      (p.status === 'unlinked' ? el('span', { className: 'hb-text-warn', text: t('patients.needsLinking') }) : '')),
    cell(t('patients.col.birthDate'), str(p.date_of_birth), 'hb-nowrap'),
    cell(t('patients.col.sex'), formatSex(p.gender), 'hb-nowrap'),
    cell(t('patients.col.status'), statusBadge(p), 'hb-nowrap'),
    cell(t('patients.col.identifiers'), chips)
  ]);
  row.addEventListener('click', function (event) {
    if (event.target.closest('a, button')) return;
    const selection = window.getSelection ? String(window.getSelection()) : '';
    if (selection) return;   // the user is selecting text to copy
    window.location.assign(url);
  });
  return row;
}

async function loadUnlinkedCount() {
  const banner = byId('unlinked-banner');
  if (listState.query.status === 'unlinked') { banner.hidden = true; return; }
  try {
    const answer = await api('/bridge/patients', { query: { status: 'unlinked', limit: 1 } });
    const count = answer && typeof answer.total === 'number' ? answer.total : 0;
    clear(banner);
    if (count > 0) {
      appendChildren(banner, [
        el('strong', { text: t('patients.unlinked.count', { count: count }) }),
        ' ' + t('patients.unlinked.why') + ' ',
        el('a', { text: t('patients.unlinked.show'), attrs: { href: '/bridge/app/patients.html?status=unlinked' } })
      ]);
    }
    banner.hidden = count <= 0;
  } catch (e) {
    banner.hidden = true;
  }
}

function setupNewForm() {
  const toggle = byId('new-toggle');
  const card = byId('new-card');
  const form = byId('new-form');
  function open(value) {
    card.hidden = !value;
    toggle.setAttribute('aria-expanded', value ? 'true' : 'false');
    if (value) byId('new-last-name').focus();
  }
  toggle.addEventListener('click', function () { open(card.hidden); });
  byId('new-cancel').addEventListener('click', function () {
    form.reset();
    setMessage('new-message', '');
    open(false);
    toggle.focus();
  });
  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    const body = {
      last_name: byId('new-last-name').value.trim(),
      first_name: byId('new-first-name').value.trim(),
      national_id: byId('new-national-id').value.trim(),
      date_of_birth: byId('new-dob').value,
      gender: byId('new-gender').value,
      phone: byId('new-phone').value.trim()
    };
    if (!body.last_name && !body.first_name) {
      setMessage('new-message', t('patients.new.needName'), 'error');
      byId('new-last-name').setAttribute('aria-invalid', 'true');
      byId('new-last-name').focus();
      return;
    }
    byId('new-last-name').removeAttribute('aria-invalid');
    ['national_id', 'date_of_birth', 'gender', 'phone'].forEach(function (k) { if (!body[k]) delete body[k]; });
    const submit = byId('new-submit');
    submit.disabled = true;
    setMessage('new-message', t('patients.new.creating'));
    try {
      const created = await api('/bridge/patients', { method: 'POST', body: body });
      if (created && created.id) {
        window.location.assign(detailUrl(created.id));
        return;
      }
      setMessage('new-message', t('patients.new.created'), 'ok');
      loadList();
    } catch (e) {
      if (e.status === 409 && body.national_id) {
        setMessage('new-message', t('patients.new.nationalIdTaken') + ' ', 'error');
        byId('new-message').appendChild(el('a', {
          text: t('patients.new.showIt'),
          attrs: { href: '/bridge/app/patients.html?national_id=' + encodeURIComponent(body.national_id) }
        }));
      } else {
        setMessage('new-message', t('patients.new.notCreated', { error: describeError(e) }), 'error');
      }
    }
    submit.disabled = false;
  });
}

function initList() {
  byId('list-view').hidden = false;
  ['national_id', 'name', 'birth_date', 'status'].forEach(function (k) {
    const v = params.get(k);
    if (v) listState.query[k] = v.trim();
  });
  byId('q-national-id').value = listState.query.national_id || '';
  byId('q-name').value = listState.query.name || '';
  byId('q-birth-date').value = listState.query.birth_date || '';
  const status = listState.query.status;
  byId('q-status').value = status === 'registered' || status === 'unlinked' ? status : '';
  const offset = parseInt(params.get('offset') || '0', 10);
  listState.offset = isFinite(offset) && offset > 0 ? offset : 0;

  byId('search-form').addEventListener('submit', function (event) {
    event.preventDefault();
    listState.query = readSearchForm();
    listState.offset = 0;
    writeUrl(listState.query, 0);
    loadList();
  });
  byId('search-clear').addEventListener('click', function () {
    byId('search-form').reset();
    listState.query = {};
    listState.offset = 0;
    writeUrl({}, 0);
    loadList();
    byId('q-national-id').focus();
  });
  byId('page-prev').addEventListener('click', function () {
    listState.offset = Math.max(0, listState.offset - PAGE_SIZE);
    writeUrl(listState.query, listState.offset);
    loadList();
  });
  byId('page-next').addEventListener('click', function () {
    listState.offset += PAGE_SIZE;
    writeUrl(listState.query, listState.offset);
    loadList();
  });
  setupNewForm();
  sitesReady = loadSites();
  loadList();
}

/* ================================================================ detail */

let entryId = '';
let entry = null;        // the last GET /bridge/patients/{id}
const DEMO_FIELDS = [
  { key: 'last_name', input: 'd-last-name' },
  { key: 'first_name', input: 'd-first-name' },
  { key: 'national_id', input: 'd-national-id' },
  { key: 'date_of_birth', input: 'd-dob' },
  { key: 'gender', input: 'd-gender' },
  { key: 'phone', input: 'd-phone' }
];
const DISCREPANCY_FIELDS = ['name', 'birth_date', 'sex'];

function apiPath(suffix) {
  return '/bridge/patients/' + encodeURIComponent(entryId) + (suffix || '');
}

async function loadDetail() {
  showAlert('detail-error', '');
  try {
    const answer = await api(apiPath());
    if (!isObject(answer)) throw new Error(t('patients.unexpected'));
    mayView = await viewerAvailable();
    entry = answer;
    renderDetail(answer);
    byId('detail-body').hidden = false;
    return answer;
  } catch (e) {
    byId('detail-body').hidden = true;
    if (e.status === 404) {
      setText('d-title', t('patients.unknownPatient'));
      showAlert('detail-error', t('patients.noEntry', { id: entryId }));
    } else {
      showAlert('detail-error', t('patients.loadOneFailed', { error: describeError(e) }));
    }
    return null;
  }
}

function renderDetail(p) {
  const name = patientName(p);
  setText('d-title', name || t('common.noName'));
  byId('d-id').textContent = str(p.id) || entryId;
  const badge = byId('d-status');
  const fresh = statusBadge(p);
  badge.className = fresh.className;
  badge.textContent = fresh.textContent;
  badge.hidden = false;
  byId('d-federation').setAttribute('href', '/bridge/app/federation.html?patient_id=' + encodeURIComponent(str(p.id) || entryId));
  byId('d-updated').textContent = p.updated_at ? t('patients.updated', { time: formatDateTime(p.updated_at) }) : '';

  const merged = clear(byId('d-merged'));
  if (p.merged_into) {
    appendChildren(merged, tParts('patients.mergedNotice', {
      id: el('a', { text: str(p.merged_into), attrs: { href: detailUrl(p.merged_into) } })
    }));
  }
  merged.hidden = !p.merged_into;
  byId('d-unlinked').hidden = !(p.status === 'unlinked' && !p.merged_into);
  const editable = !p.merged_into;
  byId('id-form').hidden = !editable;
  byId('merge-card').hidden = !editable;
  DEMO_FIELDS.forEach(function (f) { byId(f.input).disabled = !editable; });
  byId('demo-submit').disabled = !editable;
  byId('demo-reset').disabled = !editable;

  fillDemographics(p);
  renderDiscrepancies(objects(p.discrepancies), p);
  renderIdentifiers(objects(p.identifiers));
  renderStudies(objects(p.studies));
  renderMerges(objects(p.merges));
  fillSiteChoice();
  renderConsents();     // a merged entry's consent can no longer be changed here
}

function fillDemographics(p) {
  DEMO_FIELDS.forEach(function (f) {
    const input = byId(f.input);
    let value = str(p[f.key]);
    if (f.key === 'gender') {
      value = value.toUpperCase();
      const known = Array.prototype.some.call(input.options, function (o) { return o.value === value; });
      if (!known) input.appendChild(el('option', { text: value, attrs: { value: value } }));   // keep an unknown code
    }
    input.value = value;
    input.removeAttribute('aria-invalid');
  });
}

function formatDiscrepancyValue(field, value) {
  if (value === undefined || value === null || value === '') return t('common.nothing');
  if (field === 'name') return str(value).indexOf('^') !== -1 ? formatPatientName(value) : str(value);
  if (field === 'sex') return formatSex(value);
  return str(value);
}

function renderDiscrepancies(list, p) {
  const box = byId('d-discrepancies');
  const ul = clear(byId('d-discrepancy-list'));
  document.querySelectorAll('#demo-form .hb-field').forEach(function (field) {
    field.classList.remove('hb-field-discrepant');
    const note = field.querySelector('.hb-discrepancy-note');
    if (note) note.parentNode.removeChild(note);
  });
  const studies = Array.isArray(p.studies) ? p.studies : [];
  list.forEach(function (d) {
    const field = str(d.field);
    const known = DISCREPANCY_FIELDS.indexOf(field) !== -1;
    const label = known ? t('patients.discrepancy.' + field) : field;
    const dicom = formatDiscrepancyValue(field, d.dicom);
    const registry = formatDiscrepancyValue(field, d.registry);
    let study = null;
    studies.forEach(function (s) { if (isObject(s) && s.study_uid && s.study_uid === d.study_uid) study = s; });
    let where = null;
    if (study) {
      const text = t('patients.discrepancy.studyOf', { date: formatStudyDate(str(study.study_date), '') || t('patients.discrepancy.unknownDate') }) +
        (study.description ? ', ' + str(study.description) : '');
      where = ORTHANC_ID.test(str(study.orthanc_id))
        ? el('a', { text: text, attrs: { href: '/app/explorer.html#study?uuid=' + encodeURIComponent(study.orthanc_id) } })
        : el('span', { text: text });
    } else if (d.study_uid) {
      where = el('span', { text: t('patients.discrepancy.study', { uid: str(d.study_uid) }) });
    }
    ul.appendChild(el('li', {}, [
      el('strong', { text: label + ': ' }),
      tParts('patients.discrepancy.line', {
        dicom: el('span', { className: 'hb-quote', text: '\u201c' + dicom + '\u201d' }),
        registry: el('span', { className: 'hb-quote', text: '\u201c' + registry + '\u201d' })
      }),
      where ? ' (' : null, where, where ? ')' : null
    ]));
    if (!known) return;
    const fields = document.querySelectorAll('#demo-form .hb-field[data-field="' + field + '"]');
    fields.forEach(function (node) { node.classList.add('hb-field-discrepant'); });
    if (fields.length) {
      fields[0].appendChild(el('span', { className: 'hb-discrepancy-note', text: t('patients.discrepancy.note', { value: dicom }) }));
    }
  });
  box.hidden = list.length === 0;
}

function renderIdentifiers(ids) {
  const body = clear(byId('ids-body'));
  ids.forEach(function (ident) {
    const site = sitesById[str(ident.site_id)];
    const siteNode = [el('span', { text: site && site.name ? str(site.name) : str(ident.site_id) })];
    if (site && site.name) siteNode.push(el('span', { className: 'hb-subtext', text: str(ident.site_id) }));
    if (site && site.local) siteNode.push(el('span', { className: 'hb-chip hb-chip-local', text: t('common.thisSite') }));
    body.appendChild(el('tr', {}, [
      cell(t('patients.ids.col.site'), siteNode),
      cell(t('patients.ids.col.patientId'), el('span', { className: 'hb-id', text: str(ident.patient_id) })),
      cell(t('patients.ids.col.issuer'), str(ident.issuer))
    ]));
  });
  byId('ids-wrap').hidden = ids.length === 0;
  byId('ids-empty').hidden = ids.length !== 0;
  byId('ids-empty').textContent = entry && entry.merged_into
    ? t('patients.ids.moved', { id: str(entry.merged_into) }) : t('patients.ids.none');
}

function fillSiteChoice() {
  const select = byId('id-site');
  const previous = select.value;
  clear(select);
  let choices = sitesList.slice();
  if (choices.length === 0 && system && system.site && system.site.id) {
    choices = [{ id: system.site.id, name: system.site.name, local: true }];
  }
  choices.sort(function (a, b) { return (b.local ? 1 : 0) - (a.local ? 1 : 0); });
  choices.forEach(function (s) {
    const label = s.local ? t('patients.ids.thisSiteOption', { name: str(s.name) || str(s.id) })
      : (s.name ? str(s.name) + ' (' + str(s.id) + ')' : str(s.id));
    select.appendChild(el('option', { text: label, attrs: { value: str(s.id) } }));
  });
  if (previous) select.value = previous;
  if (!select.value && select.options.length) select.selectedIndex = 0;
}

function studyKey(s) {
  return (s.study_date ? str(s.study_date) : '0000-00-00') + ' ' + str(s.study_time);
}

function renderStudies(studies) {
  const body = clear(byId('studies-body'));
  studies = studies.map(function (s, i) { return { s: s, i: i }; }).sort(function (a, b) {
    const ka = studyKey(a.s);
    const kb = studyKey(b.s);
    return ka === kb ? a.i - b.i : (ka < kb ? 1 : -1);
  }).map(function (x) { return x.s; });
  studies.forEach(function (s) {
    const name = formatPatientName(s.patient_name);
    const nameNode = name
      ? (ORTHANC_ID.test(str(s.orthanc_id))
        ? el('a', { text: name, attrs: { href: '/app/explorer.html#study?uuid=' + encodeURIComponent(s.orthanc_id), title: t('common.openInExplorer') } })
        : el('span', { text: name }))
      : '';
    const modalities = Array.isArray(s.modalities) ? s.modalities.filter(Boolean).map(str).join(', ') : '';
    const origin = s.origin_site
      ? [el('span', { text: t('patients.studies.retrievedFrom') }), el('span', { className: 'hb-subtext', text: siteLabel(s.origin_site) })]
      : el('span', { className: 'hb-muted', text: t('patients.studies.receivedHere') });
    body.appendChild(el('tr', {}, [
      cell(t('patients.studies.col.date'), formatStudyDate(str(s.study_date), str(s.study_time)), 'hb-nowrap'),
      cell(t('patients.studies.col.name'), nameNode),
      cell(t('patients.studies.col.patientId'), str(s.patient_id)),
      cell(t('patients.studies.col.modality'), modalities),
      cell(t('patients.studies.col.description'), [s.description ? el('span', { text: str(s.description) }) : null, restrictedBadge(s),
        mayView ? viewerLink(s.study_uid) : null].filter(Boolean)),
      cell(t('patients.studies.col.series'), formatNumber(s.series_count), 'hb-num'),
      cell(t('patients.studies.col.instances'), formatNumber(s.instance_count), 'hb-num'),
      cell(t('patients.studies.col.from'), origin)
    ]));
  });
  byId('studies-wrap').hidden = studies.length === 0;
  byId('studies-empty').hidden = studies.length !== 0;
  byId('studies-summary').textContent = studies.length ? t('patients.studies.summary', { count: studies.length }) : '';
}

function renderMerges(merges) {
  const body = clear(byId('merges-body'));
  merges.forEach(function (m) {
    body.appendChild(el('tr', {}, [
      cell(t('patients.merges.col.when'), m.at ? el('time', { text: formatDateTime(m.at), attrs: { datetime: str(m.at) } }) : '', 'hb-nowrap'),
      cell(t('patients.merges.col.entry'), m.from ? el('a', { className: 'hb-id', text: str(m.from), attrs: { href: detailUrl(m.from) } }) : ''),
      cell(t('patients.merges.col.by'), str(m.by)),
      cell(t('patients.merges.col.reason'), str(m.reason))
    ]));
  });
  byId('merges-wrap').hidden = merges.length === 0;
  byId('merges-empty').hidden = merges.length !== 0;
}

function setupDemographicsForm() {
  const form = byId('demo-form');
  byId('demo-reset').addEventListener('click', function () {
    if (entry) fillDemographics(entry);
    setMessage('demo-message', '');
  });
  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    if (!entry) return;
    const changes = {};
    DEMO_FIELDS.forEach(function (f) {
      let value = byId(f.input).value;
      if (f.input !== 'd-dob' && f.input !== 'd-gender') value = value.trim();
      let before = str(entry[f.key]);
      if (f.key === 'gender') before = before.toUpperCase();
      if (value !== before) changes[f.key] = value;
    });
    if (Object.keys(changes).length === 0) {
      setMessage('demo-message', t('patients.demo.nothing'), '');
      return;
    }
    if ('last_name' in changes || 'first_name' in changes) {
      const last = 'last_name' in changes ? changes.last_name : str(entry.last_name);
      const first = 'first_name' in changes ? changes.first_name : str(entry.first_name);
      if (!last && !first) {
        setMessage('demo-message', t('patients.demo.needName'), 'error');
        return;
      }
    }
    const submit = byId('demo-submit');
    submit.disabled = true;
    setMessage('demo-message', t('patients.saving'));
    try {
      await api(apiPath(), { method: 'PUT', body: changes });
      await loadDetail();
      setMessage('demo-message', t('patients.demo.saved'), 'ok');
    } catch (e) {
      const text = e.status === 409 ? t('patients.demo.nationalIdTaken', { detail: e.detail || e.message })
        : t('patients.demo.notSaved', { error: describeError(e) });
      setMessage('demo-message', text, 'error');
      if (e.status === 409 || /national/i.test(e.detail || '')) byId('d-national-id').setAttribute('aria-invalid', 'true');
    }
    submit.disabled = !!(entry && entry.merged_into);
  });
}

function setupIdentifierForm() {
  byId('id-form').addEventListener('submit', async function (event) {
    event.preventDefault();
    const body = {
      site_id: byId('id-site').value,
      patient_id: byId('id-patient-id').value.trim(),
      issuer: byId('id-issuer').value.trim()
    };
    if (!body.site_id || !body.patient_id) {
      setMessage('id-message', !body.site_id ? t('patients.ids.chooseSite') : t('patients.ids.enterId'), 'error');
      (body.site_id ? byId('id-patient-id') : byId('id-site')).focus();
      return;
    }
    if (!body.issuer) delete body.issuer;
    const submit = byId('id-submit');
    submit.disabled = true;
    setMessage('id-message', t('patients.ids.adding'));
    try {
      await api(apiPath('/identifiers'), { method: 'POST', body: body });
      byId('id-patient-id').value = '';
      byId('id-issuer').value = '';
      await loadDetail();
      setMessage('id-message', t('patients.ids.added'), 'ok');
    } catch (e) {
      setMessage('id-message', e.status === 409 ? t('patients.ids.taken', { detail: e.detail || e.message })
        : t('patients.ids.notAdded', { error: describeError(e) }), 'error');
    }
    submit.disabled = false;
  });
}

function summaryLine(label, p) {
  const ids = Array.isArray(p.identifiers) ? p.identifiers.length : 0;
  const studies = Array.isArray(p.studies) ? p.studies.length : 0;
  const parts = [str(p.id)];
  parts.push(p.national_id ? t('patients.merge.nationalId', { id: str(p.national_id) }) : t('patients.merge.noNationalId'));
  if (p.date_of_birth) parts.push(t('patients.merge.born', { date: str(p.date_of_birth) }));
  parts.push(t('patients.merge.identifiers', { count: ids }));
  parts.push(t('patients.merge.studiesHere', { count: studies }));
  return el('p', {}, [
    el('strong', { text: label + ' ' }),
    el('span', { className: 'hb-quote', text: patientName(p) || t('common.noName') }),
    el('span', { className: 'hb-subtext', text: parts.join(' \u00b7 ') })
  ]);
}

function setupMergeForm() {
  byId('merge-form').addEventListener('submit', async function (event) {
    event.preventDefault();
    if (!entry) return;
    const fromInput = byId('merge-from');
    const reasonInput = byId('merge-reason');
    const from = fromInput.value.trim();
    const reason = reasonInput.value.trim();
    fromInput.removeAttribute('aria-invalid');
    reasonInput.removeAttribute('aria-invalid');
    function refuse(input, text) {
      setMessage('merge-message', text, 'error');
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
    if (!from) return refuse(fromInput, t('patients.merge.enterFrom'));
    if (from === str(entry.id)) return refuse(fromInput, t('patients.merge.itself'));
    if (!reason) return refuse(reasonInput, t('patients.merge.needReason'));
    const submit = byId('merge-submit');
    submit.disabled = true;
    setMessage('merge-message', t('patients.merge.lookingUp', { id: from }));
    let other;
    try {
      other = await api('/bridge/patients/' + encodeURIComponent(from));
    } catch (e) {
      setMessage('merge-message', e.status === 404 ? t('patients.noEntry', { id: from })
        : t('patients.merge.readFailed', { id: from, error: describeError(e) }), 'error');
      fromInput.setAttribute('aria-invalid', 'true');
      submit.disabled = false;
      return;
    }
    if (!isObject(other)) other = { id: from };
    if (other.merged_into) {
      setMessage('merge-message', t('patients.merge.alreadyMerged', { id: from, into: str(other.merged_into) }), 'error');
      submit.disabled = false;
      return;
    }
    if (other.national_id && entry.national_id && other.national_id !== entry.national_id) {
      // Two national IDs: two people, or one wrong ID. The server refuses such a merge too.
      setMessage('merge-message', t('patients.merge.twoNationalIds', {
        id: from, other: str(other.national_id), mine: str(entry.national_id)
      }), 'error');
      submit.disabled = false;
      return;
    }
    setMessage('merge-message', '');
    const confirmed = await confirmDialog({
      title: t('patients.merge.confirmTitle'),
      body: [
        summaryLine(t('patients.merge.labelFrom'), other),
        summaryLine(t('patients.merge.labelInto'), entry),
        el('p', {}, [el('strong', { text: t('patients.merge.reasonLabel') + ' ' }), el('span', { text: reason })]),
        el('p', { className: 'hb-muted', text: t('patients.merge.confirmBody', { id: from }) })
      ],
      confirmLabel: t('patients.merge.confirm'),
      danger: true
    });
    if (!confirmed) {
      setMessage('merge-message', t('patients.merge.notMerged'));
      submit.disabled = false;
      return;
    }
    setMessage('merge-message', t('patients.merge.merging'));
    try {
      await api(apiPath('/merge'), { method: 'POST', body: { from: from, reason: reason } });
      fromInput.value = '';
      reasonInput.value = '';
      await loadDetail();
      setMessage('merge-message', t('patients.merge.done', { id: from }), 'ok');
    } catch (e) {
      setMessage('merge-message', t('patients.merge.failed', { error: describeError(e) }), 'error');
    }
    submit.disabled = false;
  });
}

/* =============================================================== consent */

const CONSENT_KINDS = ['share', 'federation', 'research'];
const CONSENT_METHODS = ['verbal', 'signed-form', 'attestation', 'electronic'];
const ATTACHMENT_TYPES = { pdf: 'application/pdf', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg' };
const MAX_ATTACHMENT = 5 * 1024 * 1024;
const REPORT_ROLES = ['admin', 'reception'];
let consents = null;     // the last GET /bridge/patients/{id}/consents
let consentSeq = 0;

function kindLabel(kind) {
  return CONSENT_KINDS.indexOf(kind) !== -1 ? t('consent.kind.' + kind) : str(kind);
}

function methodLabel(method) {
  return CONSENT_METHODS.indexOf(method) !== -1 ? t('consent.method.' + method) : str(method);
}

function decisionBadge(decision) {
  if (decision === 'permit') return el('span', { className: 'hb-badge hb-badge-ok', text: t('consent.permitted') });
  if (decision === 'deny') return el('span', { className: 'hb-badge hb-badge-error', text: t('consent.denied') });
  return el('span', { className: 'hb-badge', text: str(decision) || t('common.unknown') });
}

function consentDefault(kind) {
  const c = system && isObject(system.consent) && isObject(system.consent.defaults) ? system.consent.defaults : {};
  return str(c[kind] || c[kind.charAt(0).toUpperCase() + kind.slice(1)]);
}

function validityText(from, until) {
  from = str(from);
  until = str(until);
  if (from && until) return t('consent.valid.between', { from: from, until: until });
  if (until) return t('consent.valid.until', { until: until });
  if (from) return t('consent.valid.from', { from: from });
  return t('consent.valid.noEnd');
}

function attachmentUrl(record) {
  return apiPath('/consents/' + encodeURIComponent(str(record.id)) + '/attachment');
}

function editableConsent() {
  return !!(entry && !entry.merged_into) || (!entry && !!entryId);
}

async function loadConsents() {
  const mine = ++consentSeq;
  showAlert('consent-error', '');
  byId('consent-status').textContent = consents ? '' : t('common.loading');
  try {
    const answer = await api(apiPath('/consents'));
    if (mine !== consentSeq) return;
    consents = isObject(answer) ? answer : {};
    renderConsents();
    byId('consent-status').textContent = '';
  } catch (e) {
    if (mine !== consentSeq) return;
    byId('consent-status').textContent = '';
    showAlert('consent-error', e.status === 404 && !entry ? t('patients.noEntry', { id: entryId })
      : t('consent.loadFailed', { error: describeError(e) }));
  }
}

function consentSource(kind, c, record) {
  if (c.source === 'record') {
    const how = record ? methodLabel(str(record.method)) : '';
    let text = how ? t('consent.source.recordedHow', { how: how.toLowerCase() }) : t('consent.source.recorded');
    if (record && record.recorded_at) text += ' ' + t('consent.source.on', { time: formatDateTime(record.recorded_at) });
    if (record && record.recorded_by) text += ' ' + t('consent.source.by', { user: str(record.recorded_by) });
    return text;
  }
  if (c.source === 'default') {
    const policy = consentDefault(kind);
    if (policy === 'opt-in') return t('consent.source.defaultOptIn');
    if (policy === 'opt-out') return t('consent.source.defaultOptOut');
    return policy ? t('consent.source.defaultOther', { policy: policy }) : t('consent.source.default');
  }
  return str(c.source);
}

function renderConsents() {
  if (!consents) return;
  const current = isObject(consents.current) ? consents.current : {};
  const history = objects(consents.history);
  const byRecord = {};
  history.forEach(function (r) { byRecord[str(r.id)] = r; });
  const editable = editableConsent();

  const list = clear(byId('consent-current'));
  CONSENT_KINDS.forEach(function (kind) {
    const c = isObject(current[kind]) ? current[kind] : {};
    const decision = str(c.decision);
    const record = c.record_id !== undefined && c.record_id !== null ? byRecord[str(c.record_id)] : null;
    const validity = c.source === 'record' ? validityText(record ? record.valid_from : '', c.valid_until) : '';
    let revoke = null;
    if (editable && decision === 'permit') {
      revoke = el('button', {
        className: 'hb-button hb-button-small hb-no-print', text: t('consent.revokeButton'),
        attrs: { type: 'button', title: t('consent.revokeTitle', { kind: kindLabel(kind).toLowerCase() }) }
      });
      revoke.addEventListener('click', function () { revokeConsent(kind, revoke); });
    }
    list.appendChild(el('li', { className: 'hb-consent-item hb-consent-' + (decision === 'permit' ? 'permit' : (decision === 'deny' ? 'deny' : 'unknown')) }, [
      el('div', { className: 'hb-consent-head' }, [
        el('span', { className: 'hb-consent-kind', text: kindLabel(kind) }),
        decision ? decisionBadge(decision) : el('span', { className: 'hb-badge', text: t('common.unknown') })
      ]),
      el('p', { className: 'hb-consent-help', text: t('consent.help.' + kind) }),
      el('p', { className: 'hb-subtext', text: consentSource(kind, c, record) }),
      validity ? el('p', { className: 'hb-subtext', text: validity }) : null,
      revoke ? el('div', { className: 'hb-consent-actions' }, [revoke]) : null
    ]));
  });

  const body = clear(byId('consent-history-body'));
  const inForce = {};
  CONSENT_KINDS.forEach(function (kind) {
    const c = current[kind];
    if (isObject(c) && c.source === 'record' && c.record_id !== undefined && c.record_id !== null) inForce[str(c.record_id)] = true;
  });
  history.forEach(function (r) {
    const recorded = [
      r.recorded_at ? el('time', { className: 'hb-nowrap', text: formatDateTime(r.recorded_at), attrs: { datetime: str(r.recorded_at) } }) : null,
      r.recorded_by ? el('span', { className: 'hb-subtext', text: t('consent.by', { user: str(r.recorded_by) }) }) : null
    ];
    const scan = r.has_attachment && r.id !== undefined && r.id !== null
      ? el('a', { text: t('consent.openScan'), attrs: { href: attachmentUrl(r), target: '_blank', rel: 'noopener' } })
      : '';
    body.appendChild(el('tr', {}, [
      cell(t('consent.col.recorded'), recorded.filter(Boolean)),
      cell(t('consent.col.kind'), [el('span', { text: kindLabel(str(r.kind)) }), validityChip(r, inForce[str(r.id)])]),
      cell(t('consent.col.decision'), decisionBadge(str(r.decision))),
      cell(t('consent.col.how'), methodLabel(str(r.method)), 'hb-nowrap'),
      cell(t('consent.col.valid'), validityText(r.valid_from, r.valid_until)),
      cell(t('consent.col.note'), str(r.note)),
      cell(t('consent.col.scan'), scan, 'hb-nowrap')
    ]));
  });
  byId('consent-history-wrap').hidden = history.length === 0;
  byId('consent-history-empty').hidden = history.length !== 0;
  byId('consent-form').hidden = !editable;
}

// "in force" for the record that decides now; otherwise why a record does not (yet) count.
function validityChip(r, current) {
  if (current) return el('span', { className: 'hb-chip hb-chip-local hb-consent-inforce', text: t('consent.inForce') });
  const from = str(r.valid_from);
  const until = str(r.valid_until);
  const today = localDay();
  if (from && from > today) return el('span', { className: 'hb-chip hb-consent-inforce', text: t('consent.notYetValid') });
  if (until && until < today) return el('span', { className: 'hb-chip hb-consent-inforce', text: t('consent.expired') });
  return null;
}

async function revokeConsent(kind, button) {
  const method = el('select', { id: 'revoke-method' });
  ['verbal', 'signed-form', 'electronic', 'attestation'].forEach(function (m) {
    method.appendChild(el('option', { text: methodLabel(m), attrs: { value: m } }));
  });
  const note = el('input', { id: 'revoke-note', attrs: { type: 'text', maxlength: '1000', autocomplete: 'off' } });
  const name = entry ? patientName(entry) : '';
  const confirmed = await confirmDialog({
    title: t('consent.revoke.title', { kind: kindLabel(kind).toLowerCase() }),
    body: [
      el('p', {}, tParts('consent.revoke.body', {
        name: el('strong', { text: name || entryId }), what: el('em', { text: t('consent.help.' + kind) })
      })),
      el('p', { className: 'hb-muted', text: t('consent.revoke.history') }),
      el('div', { className: 'hb-field' }, [el('label', { text: t('consent.revoke.how'), attrs: { for: 'revoke-method' } }), method]),
      el('div', { className: 'hb-field' }, [el('label', { attrs: { for: 'revoke-note' } },
        [t('consent.revoke.note') + ' ', el('span', { className: 'hb-optional', text: t('consent.optional') })]), note])
    ],
    confirmLabel: t('consent.revoke.confirm'),
    danger: true
  });
  if (!confirmed) return;
  button.disabled = true;
  byId('consent-status').textContent = t('consent.recording');
  const body = { kind: kind, decision: 'deny', method: method.value };
  if (note.value.trim()) body.note = note.value.trim();
  try {
    await api(apiPath('/consents'), { method: 'POST', body: body });
    await loadConsents();
    byId('consent-status').textContent = t('consent.revoke.done', { kind: kindLabel(kind) });
  } catch (e) {
    byId('consent-status').textContent = '';
    showAlert('consent-error', t('consent.revoke.failed', { error: describeError(e) }));
    button.disabled = false;
  }
}

function readFileBase64(file) {
  return new Promise(function (resolve, reject) {
    const reader = new FileReader();
    reader.onload = function () {
      const text = String(reader.result || '');
      const comma = text.indexOf(',');
      resolve(comma === -1 ? '' : text.slice(comma + 1));
    };
    reader.onerror = function () { reject(reader.error || new Error(t('consent.unreadable'))); };
    reader.readAsDataURL(file);
  });
}

function attachmentType(file) {
  let type = str(file.type).toLowerCase();
  if (type === 'image/jpg' || type === 'image/pjpeg') type = 'image/jpeg';
  if (type === 'application/pdf' || type === 'image/png' || type === 'image/jpeg') return type;
  if (!type) {
    const ext = /\.([a-z0-9]+)$/i.exec(str(file.name));
    if (ext && ATTACHMENT_TYPES[ext[1].toLowerCase()]) return ATTACHMENT_TYPES[ext[1].toLowerCase()];
  }
  return '';
}

function setupConsentForm() {
  const form = byId('consent-form');
  const fields = ['c-kind', 'c-decision', 'c-method', 'c-from', 'c-until', 'c-file'];
  form.addEventListener('reset', function () {
    fields.forEach(function (f) { byId(f).removeAttribute('aria-invalid'); });
    setMessage('c-message', '');
  });
  byId('c-file').addEventListener('change', function () {
    const file = byId('c-file').files && byId('c-file').files[0];
    byId('c-file').removeAttribute('aria-invalid');
    if (!file) { setMessage('c-message', ''); return; }
    if (file.size > MAX_ATTACHMENT) {
      byId('c-file').setAttribute('aria-invalid', 'true');
      setMessage('c-message', t('consent.scanTooBig', { mb: (file.size / 1048576).toFixed(1) }), 'error');
    } else if (!attachmentType(file)) {
      byId('c-file').setAttribute('aria-invalid', 'true');
      setMessage('c-message', t('consent.scanType'), 'error');
    } else {
      setMessage('c-message', '');
    }
  });
  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    fields.forEach(function (f) { byId(f).removeAttribute('aria-invalid'); });
    function fail(field, text) {
      byId(field).setAttribute('aria-invalid', 'true');
      byId(field).focus();
      setMessage('c-message', text, 'error');
    }
    const body = {
      kind: byId('c-kind').value,
      decision: byId('c-decision').value,
      method: byId('c-method').value,
      valid_from: byId('c-from').value,
      valid_until: byId('c-until').value,
      note: byId('c-note').value.trim()
    };
    if (!body.kind) return fail('c-kind', t('consent.form.chooseKind'));
    if (!body.decision) return fail('c-decision', t('consent.form.chooseDecision'));
    if (!body.method) return fail('c-method', t('consent.form.chooseMethod'));
    if (body.valid_from && body.valid_until && body.valid_until < body.valid_from) {
      return fail('c-until', t('consent.form.untilBeforeFrom'));
    }
    const file = byId('c-file').files && byId('c-file').files[0];
    if (file) {
      if (file.size > MAX_ATTACHMENT) return fail('c-file', t('consent.form.scanTooBig'));
      body.attachment_type = attachmentType(file);
      if (!body.attachment_type) return fail('c-file', t('consent.scanType'));
    }
    ['valid_from', 'valid_until', 'note'].forEach(function (k) { if (!body[k]) delete body[k]; });
    const submit = byId('c-submit');
    submit.disabled = true;
    try {
      if (file) {
        setMessage('c-message', t('consent.form.readingScan'));
        body.attachment = await readFileBase64(file);
      }
      setMessage('c-message', t('consent.recording'));
      await api(apiPath('/consents'), { method: 'POST', body: body, timeoutMs: 120000 });
      form.reset();
      await loadConsents();
      const later = body.valid_from && body.valid_from > localDay();
      setMessage('c-message', t(later ? 'consent.form.recordedLater' : 'consent.form.recorded', {
        kind: kindLabel(body.kind), decision: t(body.decision === 'permit' ? 'consent.form.permitted' : 'consent.form.denied'),
        from: body.valid_from || ''
      }), 'ok');
    } catch (e) {
      const text = e.status === 413 ? t('consent.form.serverTooBig', { detail: e.detail ? ' (' + e.detail + ')' : '' })
        : t('consent.form.notRecorded', { error: describeError(e) });
      if (e.status === 400 && e.detail) {
        const named = { kind: 'c-kind', decision: 'c-decision', method: 'c-method', valid_from: 'c-from', valid_until: 'c-until', attachment: 'c-file' };
        Object.keys(named).forEach(function (k) { if (e.detail.indexOf(k) !== -1) byId(named[k]).setAttribute('aria-invalid', 'true'); });
      }
      setMessage('c-message', text, 'error');
    }
    submit.disabled = false;
  });
}

function showAccessReportLink() {
  const link = byId('d-access-report');
  const role = system && system.user ? str(system.user.role) : '';
  link.hidden = !entryId || REPORT_ROLES.indexOf(role) === -1;
}

function initDetail(id) {
  entryId = id;
  byId('detail-view').hidden = false;
  byId('d-id').textContent = id;
  byId('d-federation').setAttribute('href', '/bridge/app/federation.html?patient_id=' + encodeURIComponent(id));
  byId('d-access-report').setAttribute('href', '/bridge/app/access-report.html?id=' + encodeURIComponent(id));
  setupDemographicsForm();
  setupIdentifierForm();
  setupMergeForm();
  setupConsentForm();
  loadConsents();
  Promise.all([loadSites(), loadDetail()]).then(function (results) {
    if (results[1]) renderDetail(results[1]);   // again, with the site names
  });
}

/* ================================================================= start */

const id = (params.get('id') || '').trim();
initLayout({ page: 'patients', title: id ? t('patients.titleOne', { id: id }) : t('patients.title') }).then(function (s) {
  system = s;
  if (id) {
    fillSiteChoice();
    showAccessReportLink();
    renderConsents();   // again, with the site's consent defaults
  }
}, function (e) {
  showAlert(id ? 'detail-error' : 'list-error', t('common.sessionFailed', { error: describeError(e) }));
});
if (id) initDetail(id);
else initList();
