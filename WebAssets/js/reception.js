/*
 * Reception: print slips with a QR code so patients get their images on their phone.
 *   GET  /bridge/shares/pending                      slips waiting to print (auto-share queue)
 *   GET  /bridge/studies?received_from=<today>       today's studies (or ?q= for any date)
 *   POST /bridge/shares                              create a link → opens its slip, shows the PIN once
 *   GET  /bridge/shares?status=&q=&limit=50          recent links
 *   POST /bridge/shares/{id}/revoke {reason} | /unlock | /reprint
 *   GET  /bridge/orders?date=today&status=scheduled    today's orders not checked in yet
 *   POST /bridge/orders/{id}/arrive                  the patient checked in ("Arrived")
 * Everything refreshes every 15 s. "#share=<Orthanc study ID>" in the address (the "Share (QR)"
 * button of Orthanc Explorer) opens the create dialog for that study at once.
 * Server and DICOM strings reach the DOM only via textContent / el() (see lib/dom.js).
 */
import { api, describeError } from '../lib/api.js';
import { byId, el, clear, setText, appendChildren, setAttr, isSafeUrl } from '../lib/dom.js';
import {
  formatDateOnly, formatDateTime, formatNumber, formatPatientName, formatStudyDate, formatTimeOnly, localDay
} from '../lib/format.js';
import { t, has } from '../lib/i18n.js';
import { initLayout } from '../lib/layout.js';
import { startPolling, refreshStatusText, loadProblemsText } from '../lib/polling.js';
import { str, settle } from '../lib/text.js';
import { badge, cell, closeDialog, confirmDialog, openDialog, showAlert } from '../lib/ui.js';

const REFRESH_MS = 15000;
const STUDY_LIMIT = 100;
const SHARE_LIMIT = 50;
const ORTHANC_ID = /^[0-9a-f]{8}(-[0-9a-f]{8}){4}$/i;
const FORMAT_KEY = 'hb.reception.slipFormat';
const STATUS_TONES = { active: 'ok', locked: 'warn', revoked: 'error', expired: '', 'used-up': '' };

const state = {
  search: '',            // '' = today's studies
  sharesStatus: 'all',
  sharesQuery: '',
  lastSuccess: null,
  paused: false,
  system: null,
  creating: null         // the study record the create dialog is for
};
let poller = null;
const bare = { bare: true };

/* ------------------------------------------------------------------ helpers */

function records(list) {
  return Array.isArray(list) ? list.filter(function (s) { return s && typeof s === 'object'; }) : [];
}

function statusLabel(status) {
  return has('reception.status.' + status) ? t('reception.status.' + status) : status;
}

function factorLabel(factor) {
  factor = str(factor);
  return has('reception.factor.' + factor) ? t('reception.factor.' + factor) : factor;
}

function patientName(raw) {
  return formatPatientName(raw) || '';
}

function slipFormat() {
  return byId('slip-format').value === 'receipt' ? 'receipt' : 'a6';
}

// "/bridge/shares/12/slip" → same path with the chosen paper and "#print" (slip-page.js prints at once).
function slipUrl(path, autoPrint) {
  if (typeof path !== 'string' || path.indexOf('/bridge/shares/') !== 0 || !isSafeUrl(path)) return '';
  const url = new URL(path, window.location.origin);
  url.searchParams.set('format', slipFormat());
  return url.pathname + url.search + (autoPrint ? '#print' : '');
}

function slipPathFor(share) {
  return '/bridge/shares/' + encodeURIComponent(str(share.id)) + '/slip';
}

// Opens the slip in a new tab. Returns false when the browser blocked it.
function openSlip(path) {
  const url = slipUrl(path, true);
  if (!url) return false;
  const win = window.open(url, '_blank');
  if (!win) return false;
  try { win.opener = null; } catch (e) { /* cross-origin: fine */ }
  return true;
}

function studyLine(study) {
  if (!study) return '';
  const parts = [];
  if (study.date) parts.push(str(study.date));
  const modalities = Array.isArray(study.modalities) ? study.modalities.filter(Boolean).join(', ') : '';
  if (modalities) parts.push(modalities);
  if (study.description) parts.push(str(study.description));
  return parts.join(' \u00b7 ');
}

function shareStudies(share) {
  const studies = records(share.studies);
  const nodes = [];
  if (studies.length === 0) return nodes;
  nodes.push(el('span', { text: studyLine(studies[0]) || t('reception.study') }));
  if (studies.length > 1) {
    nodes.push(el('span', { className: 'hb-subtext', text: t('reception.moreStudies', { count: studies.length - 1 }) }));
  }
  return nodes;
}

function patientCell(name, id) {
  return [
    el('span', { className: name ? '' : 'hb-muted', text: name || t('common.noName') }),
    id ? el('span', { className: 'hb-subtext hb-id', text: id }) : null
  ];
}

/* ----------------------------------------------------------- pending slips */

function pendingRow(share) {
  const print = el('button', {
    className: 'hb-button hb-button-primary hb-button-small',
    text: t('reception.print'),
    attrs: { type: 'button', title: t('reception.printTitle') }
  });
  print.addEventListener('click', function () {
    if (!openSlip(slipPathFor(share))) showAlert('page-error', t('reception.blockedRecent'));
  });
  const created = el('time', {
    text: formatDateTime(share.created_at),
    attrs: { datetime: share.created_at ? str(share.created_at) : null }
  });
  return el('tr', {}, [
    cell(t('reception.col.created'), [created, share.auto ? el('span', { className: 'hb-subtext', text: t('reception.automatic') }) : null], 'hb-nowrap', bare),
    cell(t('reception.col.patient'), patientName(share.patient_name), 'hb-strong', bare),
    cell(t('reception.col.patientId'), share.patient_id ? el('span', { className: 'hb-id', text: str(share.patient_id) }) : '', '', bare),
    cell(t('reception.col.study'), shareStudies(share), '', bare),
    cell(t('reception.col.expires'), formatDateOnly(share.expires_at), 'hb-nowrap', bare),
    cell(t('reception.col.actions'), el('div', { className: 'hb-actions' }, [print]), 'hb-action-cell', bare)
  ]);
}

function renderPending(result) {
  const shares = records(result && result.shares);
  const body = clear(byId('pending-body'));
  shares.forEach(function (share) { body.appendChild(pendingRow(share)); });
  byId('pending-wrap').hidden = shares.length === 0;
  byId('pending-empty').hidden = shares.length !== 0;
  byId('pending-heading').textContent = shares.length ? t('reception.pendingCount', { count: shares.length }) : t('reception.pending');
}

/* --------------------------------------------------------------- studies */

function studyRow(study) {
  const name = patientName(study.patient_name);
  const modalities = Array.isArray(study.modalities) ? study.modalities.filter(Boolean).join(', ') : '';
  let when;
  if (state.search) {
    when = formatStudyDate(study.study_date, study.study_time);
  } else {
    when = el('time', {
      text: formatTimeOnly(study.first_received || study.last_received),
      attrs: {
        datetime: study.first_received ? str(study.first_received) : null,
        title: study.study_date ? t('reception.studyDateTitle', { date: formatStudyDate(study.study_date, study.study_time) }) : null
      }
    });
  }
  const create = el('button', { className: 'hb-button hb-button-small', text: t('reception.create'), attrs: { type: 'button' } });
  create.addEventListener('click', function () { openCreate(study); });
  const restricted = study.restricted && typeof study.restricted === 'object' && study.restricted.share === true;
  return el('tr', {}, [
    cell(state.search ? t('reception.col.studyDate') : t('reception.col.received'), when, 'hb-nowrap', bare),
    cell(t('reception.col.patient'), name ? name : el('span', { className: 'hb-muted', text: t('common.noName') }), 'hb-strong', bare),
    cell(t('reception.col.patientId'), study.patient_id ? el('span', { className: 'hb-id', text: str(study.patient_id) }) : '', '', bare),
    cell(t('reception.col.modality'), modalities, '', bare),
    cell(t('reception.col.description'), study.description ? str(study.description) : '', '', bare),
    cell(t('reception.col.images'), formatNumber(study.instance_count), 'hb-num', bare),
    cell(t('reception.col.actions'), el('div', { className: 'hb-job' }, [
      create,
      restricted ? badge(t('reception.noConsent'), 'warn', { small: true, title: t('reception.noConsentTitle') }) : null
    ]), 'hb-action-cell', bare)
  ]);
}

function renderStudies(result) {
  const studies = records(result && result.studies);
  const total = result && typeof result.total === 'number' ? result.total : studies.length;
  const body = clear(byId('studies-body'));
  studies.forEach(function (study) { body.appendChild(studyRow(study)); });
  const empty = byId('studies-empty');
  byId('studies-wrap').hidden = studies.length === 0;
  empty.hidden = studies.length !== 0;
  empty.textContent = state.search ? t('reception.noMatch', { search: state.search }) : t('reception.noneToday');
  byId('studies-heading').textContent = state.search ? t('reception.searchResults') : t('reception.today');
  byId('studies-time-head').textContent = state.search ? t('reception.col.studyDate') : t('reception.col.received');
  byId('studies-caption').textContent = state.search ? t('reception.captionSearch') : t('reception.captionToday');
  byId('studies-summary').textContent = studies.length === 0 ? '' :
    (studies.length < total ? t('reception.showingOf', { shown: formatNumber(studies.length), total: formatNumber(total) })
      : t('reception.studyCount', { count: total }));
}

function loadStudies() {
  const query = { limit: STUDY_LIMIT };
  if (state.search) query.q = state.search;
  else query.received_from = localDay();
  return api('/bridge/studies', { query: query });
}

/* ---------------------------------------------------------------- shares */

function statusCell(share) {
  const status = str(share.status);
  const nodes = [badge(statusLabel(status) || '?', STATUS_TONES[status] || '', { small: true })];
  if (share.slip_pending && status === 'active') nodes.push(' ', badge(t('reception.slipNotPrinted'), 'info', { small: true }));
  if (share.auto) nodes.push(el('span', { className: 'hb-subtext', text: t('reception.madeAutomatically') }));
  if (status === 'revoked') {
    const why = str(share.revoke_reason);
    const by = str(share.revoked_by);
    nodes.push(el('span', {
      className: 'hb-subtext',
      text: [why, by ? t('reception.by', { user: by }) : '', share.revoked_at ? formatDateTime(share.revoked_at) : ''].filter(Boolean).join(' \u00b7 ')
    }));
  }
  if (status === 'locked') {
    nodes.push(el('span', {
      className: 'hb-subtext hb-text-warn',
      text: t('reception.tooManyWrong') + (share.locked_at ? ' \u00b7 ' + formatDateTime(share.locked_at) : '')
    }));
  }
  if (share.replaced_by !== undefined && share.replaced_by !== null && !share.revoke_reason) {
    nodes.push(el('span', { className: 'hb-subtext', text: t('reception.replacedBy', { id: str(share.replaced_by) }) }));
  }
  return nodes;
}

function usesCell(share) {
  const uses = formatNumber(share.uses || 0);
  const text = share.max_uses !== undefined && share.max_uses !== null ? uses + ' / ' + formatNumber(share.max_uses) : uses;
  const nodes = [el('span', { text: text })];
  if (share.failed_attempts) {
    nodes.push(el('span', { className: 'hb-subtext hb-text-warn', text: t('reception.wrong', { count: formatNumber(share.failed_attempts) }) }));
  }
  if (share.last_used_at) nodes.push(el('span', { className: 'hb-subtext', text: t('reception.lastUsed', { time: formatDateTime(share.last_used_at) }) }));
  return nodes;
}

function actionButton(text, tone, handler, title) {
  const button = el('button', {
    className: 'hb-button hb-button-small hb-nowrap' + (tone ? ' hb-button-' + tone : ''),
    text: text,
    attrs: { type: 'button', title: title || null }
  });
  button.addEventListener('click', function () { handler(button); });
  return button;
}

function shareRow(share) {
  const status = str(share.status);
  const actions = [];
  if (share.slip_pending && status === 'active') {
    actions.push(actionButton(t('reception.printSlip'), 'primary', function () {
      if (!openSlip(slipPathFor(share))) showAlert('page-error', t('reception.blocked'));
    }));
  }
  if (status === 'locked') actions.push(actionButton(t('reception.unlock'), 'primary', function (b) { unlockShare(share, b); }, t('reception.unlockTitle')));
  if (status !== 'revoked' && (share.replaced_by === undefined || share.replaced_by === null)) {
    actions.push(actionButton(t('reception.reprint'), '', function (b) { reprintShare(share, b); }, t('reception.reprintTitle')));
  }
  if (status === 'active' || status === 'locked') actions.push(actionButton(t('reception.revoke'), 'danger', function () { openRevoke(share); }));

  const created = [el('time', { text: formatDateTime(share.created_at), attrs: { datetime: share.created_at ? str(share.created_at) : null } }),
    el('span', { className: 'hb-subtext', text: '#' + str(share.id) + (share.created_by ? ' \u00b7 ' + str(share.created_by) : '') })];
  const studies = shareStudies(share);
  if (share.scope === 'patient') studies.push(el('span', { className: 'hb-subtext', text: t('reception.allStudies') }));
  if (share.note) studies.push(el('span', { className: 'hb-subtext', text: t('reception.note', { note: str(share.note) }) }));
  const perms = Array.isArray(share.permissions) ? share.permissions : [];
  const factor = [el('span', { text: factorLabel(share.second_factor) })];
  if (perms.indexOf('download') === -1) factor.push(el('span', { className: 'hb-subtext', text: t('reception.viewOnly') }));

  return el('tr', { className: status === 'locked' ? 'hb-row-warn' : '' }, [
    cell(t('reception.col.created'), created, '', bare),
    cell(t('reception.col.patient'), patientCell(patientName(share.patient_name), str(share.patient_id)), 'hb-strong', bare),
    cell(t('reception.col.studies'), studies, '', bare),
    cell(t('reception.col.status'), statusCell(share), '', bare),
    cell(t('reception.col.expires'), formatDateOnly(share.expires_at), 'hb-nowrap', bare),
    cell(t('reception.col.unlock'), factor, '', bare),
    cell(t('reception.col.uses'), usesCell(share), 'hb-num', bare),
    cell(t('reception.col.actions'), actions.length ? el('div', { className: 'hb-form-actions' }, actions) : '', 'hb-action-cell', bare)
  ]);
}

function renderShares(result) {
  const shares = records(result && result.shares);
  const total = result && typeof result.total === 'number' ? result.total : shares.length;
  const body = clear(byId('shares-body'));
  shares.forEach(function (share) { body.appendChild(shareRow(share)); });
  byId('shares-wrap').hidden = shares.length === 0;
  const empty = byId('shares-empty');
  empty.hidden = shares.length !== 0;
  empty.textContent = (state.sharesStatus !== 'all' || state.sharesQuery) ? t('reception.noShareMatch') : t('reception.noShares');
  byId('shares-summary').textContent = shares.length === 0 ? '' :
    (shares.length < total ? t('reception.newestOf', { shown: formatNumber(shares.length), total: formatNumber(total) })
      : t('reception.linkCount', { count: total }));
}

function loadShares() {
  return api('/bridge/shares', { query: { status: state.sharesStatus, q: state.sharesQuery, limit: SHARE_LIMIT } });
}

/* --------------------------------------------------------------- refresh */

function showStatus() {
  byId('refresh-status').textContent = refreshStatusText(state.paused, state.lastSuccess, REFRESH_MS);
}

function renderSystem(system) {
  state.system = system;
  const shares = system && system.shares && typeof system.shares === 'object' ? system.shares : null;
  let warning = '';
  if (shares && shares.enabled === false) {
    warning = t('reception.sharesOff');
  } else if (shares && !shares.public_base_url && /^(localhost|127\.|\[::1\])/.test(window.location.host)) {
    // The QR codes carry the address this page was opened at: a phone cannot open "localhost".
    warning = t('reception.loopback', { host: window.location.host });
  }
  showAlert('page-warning', warning);
}

/* ------------------------------------------------------- today's orders */

// Orders may be switched off (404) or closed to this role: the section then stays hidden.
async function loadOrders() {
  try {
    return await api('/bridge/orders', { query: { date: 'today', status: 'scheduled', limit: 200 } });
  } catch (e) {
    if (e.status === 404 || e.status === 403) return null;
    throw e;
  }
}

async function markArrived(order, button) {
  button.disabled = true;
  try {
    await api('/bridge/orders/' + encodeURIComponent(str(order.id)) + '/arrive', { method: 'POST' });
    showAlert('page-error', '');
    refreshNow();
  } catch (e) {
    button.disabled = false;
    showAlert('page-error', describeError(e));
  }
}

function renderOrders(answer) {
  const section = byId('orders-section');
  section.hidden = answer === null;
  if (answer === null) return;
  const orders = records(answer.orders);
  const body = byId('orders-body');
  clear(body);
  byId('orders-empty').hidden = orders.length > 0;
  byId('orders-wrap').hidden = orders.length === 0;
  orders.forEach(function (order) {
    const patient = order.patient && typeof order.patient === 'object' ? order.patient : {};
    const procedure = order.procedure && typeof order.procedure === 'object' ? order.procedure : {};
    const button = el('button', {
      className: 'hb-button hb-button-small hb-button-primary hb-arrive', text: t('reception.orders.arrived'),
      attrs: { type: 'button' }
    });
    button.addEventListener('click', function () { markArrived(order, button); });
    const start = str(order.scheduled_start);
    body.appendChild(el('tr', {}, [
      cell(t('reception.col.time'), start.length >= 16 ? start.slice(11, 16) : ''),
      cell(t('reception.col.patient'), patientName(patient.name)),
      cell(t('reception.col.patientId'), str(patient.patient_id)),
      cell(t('reception.col.exam'), [str(procedure.description), ' ', str(order.modality), ' ', str(order.station_aet)].join('').trim()),
      cell(t('reception.col.actions'), button)
    ]));
  });
}

async function refresh() {
  const results = await Promise.all([
    settle(api('/bridge/shares/pending')),
    settle(loadStudies()),
    settle(loadShares()),
    settle(loadOrders())
  ]);
  const problems = [];
  if (results[0].ok) renderPending(results[0].value); else problems.push(t('reception.problem.pending', { error: describeError(results[0].error) }));
  if (results[1].ok) renderStudies(results[1].value); else problems.push(t('reception.problem.studies', { error: describeError(results[1].error) }));
  if (results[2].ok) renderShares(results[2].value); else problems.push(t('reception.problem.shares', { error: describeError(results[2].error) }));
  if (results[3].ok) renderOrders(results[3].value); else problems.push(t('reception.problem.orders', { error: describeError(results[3].error) }));
  if (problems.length === 0) {
    state.lastSuccess = new Date();
    showAlert('page-error', '');
  } else {
    showAlert('page-error', loadProblemsText(problems, state.lastSuccess));
  }
  showStatus();
}

function refreshNow() {
  if (poller) poller.refreshNow(); else refresh();
}

/* --------------------------------------------------------- create dialog */

const createDialog = byId('create-dialog');
const createForm = byId('create-form');

function radioValue(name) {
  const checked = createForm.querySelector('input[name="' + name + '"]:checked');
  return checked ? checked.value : '';
}

function setRadio(name, value) {
  Array.prototype.forEach.call(createForm.querySelectorAll('input[name="' + name + '"]'), function (input) {
    input.checked = input.value === value;
  });
}

function showConsent(message) {
  byId('consent-message').textContent = message || '';
  byId('consent-box').hidden = false;
}

// study: a /bridge/studies record (orthanc_id, patient_id, patient_name, patient_birth_date,
// study_date, study_time, description, modalities, restricted).
function openCreate(study) {
  state.creating = study;
  createForm.hidden = false;
  byId('create-result').hidden = true;
  createForm.reset();
  setRadio('scope', 'study');
  setRadio('second_factor', 'pin');
  byId('valid-days').value = '30';
  byId('create-error').hidden = true;
  byId('consent-box').hidden = true;
  byId('consent-attested').checked = false;

  const name = patientName(study.patient_name);
  const who = el('span', {}, [el('span', { text: name || t('common.noName') }),
    study.patient_id ? el('span', { className: 'hb-subtext hb-id', text: t('reception.idLabel', { id: str(study.patient_id) }) }) : null]);
  appendChildren(clear(byId('create-patient')), who);
  const modalities = Array.isArray(study.modalities) ? study.modalities.filter(Boolean).join(', ') : '';
  setText('create-study', [formatStudyDate(study.study_date, study.study_time), modalities, str(study.description)]
    .filter(Boolean).join(' \u00b7 '));

  byId('scope-patient').disabled = !study.patient_id;
  const hasBirthDate = !!str(study.patient_birth_date);
  byId('factor-birth-date').disabled = !hasBirthDate;
  byId('factor-birth-date-note').hidden = hasBirthDate;

  if (study.restricted && typeof study.restricted === 'object' && study.restricted.share === true) {
    showConsent(t('reception.consentAsk'));
  }
  const submit = byId('create-submit');
  submit.disabled = false;
  submit.textContent = t('reception.create');
  openDialog(createDialog);
  byId('scope-study').focus();
  createDialog.scrollTop = 0;
}

function readCreateForm() {
  const study = state.creating;
  const body = {};
  if (radioValue('scope') === 'patient') body.patient_id = str(study.patient_id);
  else body.study = str(study.orthanc_id || study.study_uid);

  const daysText = byId('valid-days').value.trim();
  const days = Number(daysText);
  if (!/^[0-9]{1,4}$/.test(daysText) || days < 1) throw new Error(t('reception.badDays'));
  body.valid_days = days;

  body.second_factor = radioValue('second_factor') || 'pin';
  body.permissions = byId('perm-download').checked ? ['view', 'download'] : ['view'];

  const usesText = byId('max-uses').value.trim();
  if (usesText) {
    const uses = Number(usesText);
    if (!/^[0-9]{1,4}$/.test(usesText) || uses < 1 || uses > 1000) throw new Error(t('reception.badUses'));
    body.max_uses = uses;
  } else {
    body.max_uses = null;
  }
  if (!byId('consent-box').hidden) body.consent_attested = byId('consent-attested').checked;
  const note = byId('share-note').value.trim();
  if (note) body.note = note;
  return body;
}

async function submitCreate(event) {
  event.preventDefault();
  const errorBox = byId('create-error');
  errorBox.hidden = true;
  let body;
  try {
    body = readCreateForm();
  } catch (e) {
    showAlert(errorBox, e.message);
    return;
  }
  const consentShown = !byId('consent-box').hidden;
  if (consentShown && !body.consent_attested) {
    showAlert(errorBox, t('reception.tickConsent'));
    byId('consent-attested').focus();
    return;
  }
  const submit = byId('create-submit');
  submit.disabled = true;
  submit.textContent = t('reception.creating');
  try {
    const answer = await api('/bridge/shares', { method: 'POST', body: body });
    showResult(answer, 'created');
    refreshNow();
  } catch (e) {
    if (e.status === 409) {
      showConsent(describeError(e));
      byId('consent-attested').focus();
    } else {
      showAlert(errorBox, describeError(e));
    }
  } finally {
    submit.disabled = false;
    submit.textContent = t('reception.create');
  }
}

// answer: {share, token, pin, url, slip, ...} of POST /bridge/shares or /reprint.
function showResult(answer, how) {
  const share = answer && answer.share && typeof answer.share === 'object' ? answer.share : {};
  const slipPath = answer && typeof answer.slip === 'string' ? answer.slip : slipPathFor(share);
  const opened = openSlip(slipPath);

  createForm.hidden = true;
  byId('create-result').hidden = false;
  const name = patientName(share.patient_name) || t('reception.thePatient');
  const made = how === 'reprinted' ? t('reception.result.reprinted', { id: str(share.id), name: name })
    : t('reception.result.created', { id: str(share.id), name: name });
  setText('result-message', made + ' ' + (opened ? t('reception.result.opened') : ''));
  byId('result-blocked').hidden = opened;

  const pin = answer && typeof answer.pin === 'string' ? answer.pin : '';
  byId('result-pin-box').hidden = !pin;
  setText('result-pin', pin);
  setText('result-factor', factorLabel(share.second_factor));
  setText('result-expires', formatDateTime(share.expires_at));

  const link = byId('result-slip');
  const href = slipUrl(slipPath, false);
  if (href) { setAttr(link, 'href', href); link.hidden = false; } else { link.hidden = true; }
  link.className = 'hb-button' + (opened ? '' : ' hb-button-primary');
  openDialog(createDialog);
  (opened || link.hidden ? byId('result-close') : link).focus();
}

function closeCreate() {
  closeDialog(createDialog);
  state.creating = null;
  setText('result-pin', '');   // the PIN is not left on screen
}

/* ------------------------------------------------ revoke, unlock, reprint */

const revokeDialog = byId('revoke-dialog');
let revoking = null;

function openRevoke(share) {
  revoking = share;
  byId('revoke-form').reset();
  byId('revoke-error').textContent = '';
  const name = patientName(share.patient_name) || t('reception.thisPatient');
  setText('revoke-who', (share.patient_id ? t('reception.revokeWhoId', { id: str(share.id), name: name, patientId: str(share.patient_id) })
    : t('reception.revokeWho', { id: str(share.id), name: name })));
  byId('revoke-submit').disabled = false;
  openDialog(revokeDialog);
  byId('revoke-reason').focus();
}

async function submitRevoke(event) {
  event.preventDefault();
  if (!revoking) return;
  const reason = byId('revoke-reason').value.trim();
  const errorNode = byId('revoke-error');
  if (!reason) {
    errorNode.textContent = t('reception.revokeReason');
    byId('revoke-reason').focus();
    return;
  }
  const submit = byId('revoke-submit');
  submit.disabled = true;
  try {
    await api('/bridge/shares/' + encodeURIComponent(str(revoking.id)) + '/revoke', { method: 'POST', body: { reason: reason } });
    closeDialog(revokeDialog);
    revoking = null;
    refreshNow();
  } catch (e) {
    errorNode.textContent = t('reception.revokeFailed', { error: describeError(e) });
    submit.disabled = false;
  }
}

async function unlockShare(share, button) {
  const name = patientName(share.patient_name) || t('reception.thisPatient');
  const ok = await confirmDialog({
    title: t('reception.unlockConfirmTitle'),
    body: [el('p', { text: t('reception.unlockConfirmWhat', { id: str(share.id), name: name }) }),
      el('p', { text: t('reception.unlockConfirmCheck') })],
    confirmLabel: t('reception.unlock')
  });
  if (!ok) return;
  button.disabled = true;
  try {
    await api('/bridge/shares/' + encodeURIComponent(str(share.id)) + '/unlock', { method: 'POST' });
    refreshNow();
  } catch (e) {
    button.disabled = false;
    showAlert('page-error', t('reception.unlockFailed', { id: str(share.id), error: describeError(e) }));
  }
}

async function reprintShare(share, button) {
  const name = patientName(share.patient_name) || t('reception.thisPatient');
  const ok = await confirmDialog({
    title: t('reception.reprintConfirmTitle'),
    body: [el('p', { text: t('reception.reprintConfirmWhat', { name: name }) }),
      el('p', { text: t('reception.reprintConfirmOld', { id: str(share.id) }) })],
    confirmLabel: t('reception.reprintConfirm')
  });
  if (!ok) return;
  button.disabled = true;
  const options = { method: 'POST' };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const answer = await api('/bridge/shares/' + encodeURIComponent(str(share.id)) + '/reprint', options);
      state.creating = null;
      showResult(answer, 'reprinted');
      refreshNow();
      return;
    } catch (e) {
      if (e.status === 409 && attempt === 0) {
        const agreed = await confirmDialog({
          title: t('reception.consentRequired'),
          body: [el('p', { text: describeError(e) }), el('p', { text: t('reception.consentToday') })],
          confirmLabel: t('reception.consentAgreed')
        });
        if (agreed) { options.body = { consent_attested: true }; continue; }
      } else {
        showAlert('page-error', t('reception.reprintFailed', { id: str(share.id), error: describeError(e) }));
      }
      break;
    }
  }
  button.disabled = false;
}

/* ------------------------------------------- "#share=<Orthanc study ID>" */

function dicomDate(value) {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(str(value));
  return m ? m[1] + '-' + m[2] + '-' + m[3] : str(value);
}

// The study as /bridge/studies gives it; read from Orthanc when the index does not have it yet.
async function studyForOrthancId(orthancId) {
  const study = await api('/studies/' + encodeURIComponent(orthancId));
  const tags = study && study.MainDicomTags ? study.MainDicomTags : {};
  const patient = study && study.PatientMainDicomTags ? study.PatientMainDicomTags : {};
  const uid = str(tags.StudyInstanceUID);
  if (uid) {
    try {
      const record = await api('/bridge/studies/' + encodeURIComponent(uid));
      if (record && typeof record === 'object') {
        if (!record.orthanc_id) record.orthanc_id = orthancId;
        return record;
      }
    } catch (e) {
      if (e.status !== 404) throw e;
    }
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
  const match = /^#share=([0-9a-fA-F-]+)$/.exec(window.location.hash || '');
  if (!match) return;
  try {
    history.replaceState(null, '', window.location.pathname + window.location.search);
  } catch (e) { /* keep it */ }
  const orthancId = match[1];
  if (!ORTHANC_ID.test(orthancId)) {
    showAlert('page-error', t('reception.badStudyId'));
    return;
  }
  try {
    openCreate(await studyForOrthancId(orthancId));
  } catch (e) {
    showAlert('page-error', e.status === 404 ? t('reception.noSuchStudy', { id: orthancId })
      : t('reception.openStudyFailed', { error: describeError(e) }));
  }
}

/* ------------------------------------------------------------------ start */

function bind() {
  const format = byId('slip-format');
  try {
    const saved = window.localStorage.getItem(FORMAT_KEY);
    if (saved === 'a6' || saved === 'receipt') format.value = saved;
  } catch (e) { /* storage blocked */ }
  format.addEventListener('change', function () {
    try { window.localStorage.setItem(FORMAT_KEY, slipFormat()); } catch (e) { /* storage blocked */ }
  });

  byId('search-form').addEventListener('submit', function (event) {
    event.preventDefault();
    state.search = byId('search-q').value.trim();
    byId('search-clear').hidden = !state.search;
    refreshNow();
  });
  byId('search-clear').addEventListener('click', function () {
    byId('search-q').value = '';
    state.search = '';
    byId('search-clear').hidden = true;
    refreshNow();
  });
  byId('shares-form').addEventListener('submit', function (event) {
    event.preventDefault();
    state.sharesStatus = byId('shares-status').value || 'all';
    state.sharesQuery = byId('shares-q').value.trim();
    refreshNow();
  });
  byId('shares-status').addEventListener('change', function () {
    state.sharesStatus = byId('shares-status').value || 'all';
    refreshNow();
  });

  createForm.addEventListener('submit', submitCreate);
  byId('create-cancel').addEventListener('click', closeCreate);
  byId('result-close').addEventListener('click', closeCreate);
  createDialog.addEventListener('close', function () { setText('result-pin', ''); });
  byId('consent-attested').addEventListener('change', function () { byId('create-error').hidden = true; });

  byId('revoke-form').addEventListener('submit', submitRevoke);
  byId('revoke-cancel').addEventListener('click', function () {
    closeDialog(revokeDialog);
    revoking = null;
  });

  // Back from printing a slip in another tab: show its new state at once.
  window.addEventListener('focus', function () { if (state.lastSuccess) refreshNow(); });
  window.addEventListener('hashchange', openFromHash);
}

bind();
const initial = initLayout({ page: 'reception', title: t('reception.title') });
initial.then(renderSystem, function (e) { showAlert('page-error', t('reception.systemFailed', { error: describeError(e) })); });
poller = startPolling(refresh, {
  intervalMs: REFRESH_MS,
  onPause: function (value) { state.paused = value; showStatus(); }
});
initial.then(openFromHash, openFromHash);
