/*
 * HospitalBridge patient app (/s/app): the studies of one share link, previews, a viewer and
 * downloads. Talks only to /s/api/ with the share session cookie (HttpOnly, set when the
 * patient unlocked the link).
 *
 *   GET  /s/api/share                       hospital, patient, expiry, studies and series
 *   GET  /s/api/series/{id}/instances       the images of a series, in order
 *   GET  /s/api/instances/{id}/image?size=full&preset=...   one JPEG
 *   GET  /s/api/studies/{id}/report.pdf     the study's final report (when the hospital released it)
 *   POST /s/api/logout                      ends the session
 *   403 from any of them: the session ended (or never was) → "scan the QR code again".
 *
 * SECURITY: DICOM strings (names, descriptions) are attacker-controllable. They reach the DOM
 * only through textContent / createTextNode; links and images only take same-origin /s/api/
 * paths. No innerHTML, no inline style (strict CSP); zoom uses the CSSOM (element.style).
 * A native ES module: it shares lib/ with the staff pages, served here as /s/assets/lib/ (a
 * phone never needs a /bridge/ path); its texts are the "portal.*" keys of lib/locale/<lang>.js.
 * No build step, nothing from other origins. (Imports are relative to the address the page
 * loads this file from, /s/assets/share.js: ./lib/ is /s/assets/lib/, i.e. WebAssets/lib/.)
 */
import { byId as $, makeEl, appendChildren as append, clear, svgIcon as icon } from './lib/dom.js';
import { formatClock, formatDay as formatDayIn, formatLongDate, formatPersonName as formatName, parseIso } from './lib/format.js';
import { request } from './lib/http.js';
import { t, tParts, has } from './lib/i18n.js';
import { str } from './lib/text.js';

const API_SHARE = '/s/api/share';
const API_LOGOUT = '/s/api/logout';
const ZOOM_MIN = 1;
const ZOOM_MAX = 8;
const CACHE_SIZE = 20;          // decoded images kept per viewer session
const MAX_PENDING = 6;          // image downloads in flight at once
const LOCALE = t('portal.dateLocale');   // dates as the page's language writes them: "22 December 2026"

/* ------------------------------------------------------------------ DOM helpers */

// Same-origin paths under /s/ only (never "//host", never a scheme).
function isSharePath(value) {
  if (typeof value !== 'string' || value.length > 2048) return false;
  if (value.indexOf('/s/') !== 0) return false;
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return false;
  try {
    const url = new URL(value, window.location.origin);
    return url.origin === window.location.origin && url.pathname.indexOf('/s/') === 0;
  } catch (e) {
    return false;
  }
}

/*
 * el('p', {className, text, attrs: {...}, on: {click: fn}}, [children]) (lib/dom.js):
 * refuses event-handler and style attributes; href/src must be a /s/ path (or tel:/mailto:
 * built by contactItems below).
 */
const el = makeEl(function (value) { return isSharePath(value) || /^(tel|mailto):/.test(value); });

/* ------------------------------------------------------------------- formatting */

function formatDay(value) {
  return formatDayIn(value, LOCALE);
}

function formatDate(date) {
  return formatLongDate(date, LOCALE);
}

function formatTimeOfDay(date) {
  return date.toLocaleTimeString(LOCALE, { hour: '2-digit', minute: '2-digit' });
}

// "3 images" (nothing for a count that is not a number).
function imageCount(n) {
  const count = Number(n);
  return isFinite(count) ? t('portal.imageCount', { count: count }) : '';
}

function presetLabel(id) {
  return has('portal.preset.' + id) ? t('portal.preset.' + id) : id.charAt(0).toUpperCase() + id.slice(1).replace(/-/g, ' ');
}

/* -------------------------------------------------------------------------- API */

function ApiError(status, message) {
  const error = new Error(message);
  error.status = status;
  return error;
}

// GET or POST under /s/api/; a 401/403 means the session ended (sessionEnded() unless
// options.quietSession).
async function api(path, options) {
  options = options || {};
  let answer;
  try {
    answer = await request(path, { method: options.method || 'GET' });
  } catch (e) {
    throw ApiError(0, t('portal.api.unreachable'));
  }
  if (answer.ok) return answer.body && typeof answer.body === 'object' ? answer.body : null;
  if (answer.status === 401 || answer.status === 403) {
    if (options.quietSession !== true) sessionEnded();
    throw ApiError(answer.status, t('portal.api.sessionEnded'));
  }
  if (answer.status === 404 || answer.status === 410 || answer.status === 423) {
    throw ApiError(answer.status, t('portal.api.linkUnusable'));
  }
  throw ApiError(answer.status, t('portal.api.serverProblem', { status: String(answer.status) }));
}

/* ------------------------------------------------------------------ page states */

var share = null;          // the /s/api/share answer
var ended = false;         // the session is over: no more calls
var sessionTimer = null;

function showOnly(which) {
  $('app-loading').hidden = which !== 'loading';
  $('app-message').hidden = which !== 'message';
  $('app-content').hidden = which !== 'content';
}

function showMessage(title, text, action, retry) {
  $('message-title').textContent = title;
  $('message-text').textContent = text || '';
  $('message-action').textContent = action || '';
  $('message-action').hidden = !action;
  $('message-retry').hidden = !retry;
  showOnly('message');
  try { $('main').focus({ preventScroll: false }); } catch (e) { /* old browser */ }
  window.scrollTo(0, 0);
}

// Forget what was shown: a phone left on a table should not keep showing the images.
function dropContent() {
  closeViewer(true);
  clear($('studies'));
  $('patient-name').textContent = '';
  $('share-summary').textContent = '';
  $('share-expires').textContent = '';
  $('session-note').textContent = '';
  $('sign-out').hidden = true;
  if (sessionTimer) { clearTimeout(sessionTimer); sessionTimer = null; }
}

function sessionEnded() {
  if (ended) return;
  ended = true;
  dropContent();
  showMessage(t('portal.ended.title'), t('portal.ended.text'), t('portal.ended.action'), false);
}

function signedOut() {
  ended = true;
  dropContent();
  showMessage(t('portal.signedOut.title'), t('portal.signedOut.text'), t('portal.signedOut.action'), false);
}

async function signOut() {
  var button = $('sign-out');
  button.disabled = true;
  try {
    await api(API_LOGOUT, { method: 'POST', quietSession: true });
  } catch (e) {
    if (e.status !== 401 && e.status !== 403) {
      button.disabled = false;
      window.alert(t('portal.signOutFailed', { message: e.message }));
      return;
    }
  }
  button.disabled = false;
  signedOut();
}

/* ---------------------------------------------------------------------- render */

function contactItems(hospital) {
  var items = [];
  var phone = str(hospital.phone).trim();
  var email = str(hospital.email).trim();
  var address = str(hospital.address).trim();
  if (phone) {
    var dial = phone.replace(/[^0-9+*#]/g, '');
    items.push(el('li', {}, [el('span', { className: 's-contact-kind', text: t('portal.contact.phone') }), ' ',
      dial ? el('a', { text: phone, attrs: { href: 'tel:' + dial } }) : phone]));
  }
  if (email) {
    var mailOk = /^[^\s@<>"'?&]+@[^\s@<>"'?&]+$/.test(email);
    items.push(el('li', {}, [el('span', { className: 's-contact-kind', text: t('portal.contact.email') }), ' ',
      mailOk ? el('a', { text: email, attrs: { href: 'mailto:' + email } }) : email]));
  }
  if (address) {
    items.push(el('li', {}, [el('span', { className: 's-contact-kind', text: t('portal.contact.address') }), ' ', address]));
  }
  return items;
}

function renderHelp(hospital) {
  var name = str(hospital.name).trim();
  $('help-intro').textContent = t('portal.help', { hospital: name || t('portal.helpHospital') });
  var list = clear($('help-contact'));
  var items = contactItems(hospital);
  append(list, items);
  list.hidden = items.length === 0;
  $('help').hidden = false;
}

function modalityNames(study) {
  var info = Array.isArray(study.modality_info) ? study.modality_info : [];
  var names = info.map(function (m) { return m && str(m.name).trim(); }).filter(Boolean);
  if (names.length === 0 && Array.isArray(study.modalities)) names = study.modalities.map(str).filter(Boolean);
  return names.filter(function (n, i) { return names.indexOf(n) === i; });
}

function seriesTile(study, series, index) {
  var thumb = el('span', { className: 's-series-thumb' });
  if (isSharePath(series.preview)) {
    var img = el('img', { attrs: { src: series.preview, alt: '', loading: 'lazy', decoding: 'async' } });
    img.addEventListener('error', function () {
      if (img.parentNode) img.parentNode.removeChild(img);
      thumb.insertBefore(document.createTextNode(t('portal.noPreview')), thumb.firstChild);
    });
    thumb.appendChild(img);
  } else {
    thumb.appendChild(document.createTextNode(t('portal.noPreview')));
  }
  var count = Number(series.images);
  if (isFinite(count) && count > 0) thumb.appendChild(el('span', { className: 's-series-count', text: String(count) }));

  var title = str(series.description).trim() || str(series.modality).trim() || t('portal.images');
  var detail = [];
  if (series.number !== undefined && series.number !== null && str(series.number) !== '') {
    detail.push(t('portal.series', { number: str(series.number) }));
  } else {
    detail.push(t('portal.series', { number: String(index + 1) }));
  }
  if (isFinite(count)) detail.push(t('portal.imageCount', { count: count }));

  var button = el('button', {
    className: 's-series',
    attrs: { type: 'button', 'aria-label': t('portal.viewLabel', { title: title, detail: detail.join(', ') }) }
  }, [thumb, el('span', { className: 's-series-label' }, [el('strong', { text: title }),
    el('span', { text: detail.join(' \u00b7 ') })])]);
  button.addEventListener('click', function () { openViewer(study, series, button); });
  return el('li', {}, [button]);
}

function downloadLink(href, title, text, paths) {
  return el('a', { className: 's-download', attrs: { href: href, download: '' } }, [
    icon('s-download-icon', paths),
    el('span', { className: 's-download-title', text: title }),
    el('span', { className: 's-download-text', text: text })
  ]);
}

function studyCard(study, index, hospitalName) {
  var names = modalityNames(study);
  var description = str(study.description).trim();
  var title = description || (names.length ? names.join(', ') : t('portal.imagingStudy'));
  var headingId = 'study-' + index;

  var dateText = formatDay(study.date);
  var clock = formatClock(study.time);
  if (dateText && clock) dateText += ', ' + clock;

  var meta = el('p', { className: 's-study-meta' });
  var codes = Array.isArray(study.modalities) ? study.modalities.map(str).filter(Boolean) : [];
  codes.forEach(function (code) { meta.appendChild(el('span', { className: 's-chip', text: code })); });
  if (study.images !== undefined && study.images !== null) meta.appendChild(el('span', { text: imageCount(study.images) }));
  var place = str(study.hospital).trim() || hospitalName;
  if (place) meta.appendChild(el('span', { text: place }));

  var head = el('div', { className: 's-study-head' }, [
    dateText ? el('p', { className: 's-study-date', text: dateText }) : null,
    el('h2', { className: 's-study-title', id: headingId, text: title }),
    meta
  ]);

  var body = el('div', { className: 's-study-body' });

  var info = Array.isArray(study.modality_info) ? study.modality_info : [];
  var about = info.filter(function (m) { return m && (str(m.text).trim() || str(m.name).trim()); })
    .map(function (m) {
      return el('p', {}, [
        el('span', { className: 's-about-name', text: (str(m.name).trim() || str(m.code)) + ': ' }),
        str(m.text).trim()
      ]);
    });
  if (about.length) body.appendChild(el('div', { className: 's-about' }, about));

  var report = reportBlock(study.report);
  if (report) body.appendChild(report);

  var seriesList = Array.isArray(study.series) ? study.series.filter(function (s) { return s && typeof s === 'object'; }) : [];
  var canView = !share || !share.permissions || share.permissions.view !== false;
  if (canView && seriesList.length) {
    var grid = el('ul', { className: 's-series-grid' });
    seriesList.forEach(function (series, i) { grid.appendChild(seriesTile(study, series, i)); });
    body.appendChild(el('div', {}, [
      el('h3', { className: 's-section-title', text: seriesList.length === 1 ? t('portal.images') : t('portal.imagesSeries', { count: seriesList.length }) }),
      el('p', { className: 's-muted s-small', text: t('portal.tapPicture') }),
      grid
    ]));
  } else if (canView) {
    body.appendChild(el('p', { className: 's-muted', text: t('portal.noImagesStudy') }));
  }

  var downloads = study.downloads && typeof study.downloads === 'object' ? study.downloads : null;
  if (downloads && (isSharePath(downloads.dicom) || isSharePath(downloads.jpeg))) {
    var links = el('div', { className: 's-downloads' });
    if (isSharePath(downloads.jpeg)) {
      links.appendChild(downloadLink(downloads.jpeg, t('portal.download.jpegTitle'), t('portal.download.jpegText'),
        ['M12 3v12', 'M7 10l5 5 5-5', 'M4 17v3h16v-3']));
    }
    if (isSharePath(downloads.dicom)) {
      links.appendChild(downloadLink(downloads.dicom, t('portal.download.dicomTitle'), t('portal.download.dicomText'),
        ['M12 3v12', 'M7 10l5 5 5-5', 'M4 17v3h16v-3']));
    }
    body.appendChild(el('div', {}, [
      el('h3', { className: 's-section-title', text: t('portal.download.title') }),
      el('p', { className: 's-muted s-small', text: t('portal.download.large') }),
      links
    ]));
  }

  return el('section', { className: 's-card s-study', attrs: { 'aria-labelledby': headingId } }, [head, body]);
}

/*
 * The study's report, once final and released by the hospital: the impression in the
 * radiologist's words, a note when it was amended, the PDF, and plain words for the terms it
 * uses. Everything as text.
 */
function reportBlock(report) {
  if (!report || typeof report !== 'object' || !str(report.status)) return null;
  var signed = parseIso(report.signed_at);
  var parts = [
    el('h3', { className: 's-section-title', text: t('portal.report.title') }),
    signed ? el('p', { className: 's-muted s-small', text: t('portal.report.signed', { date: formatLongDate(signed, LOCALE) }) }) : null
  ];
  if (report.amended === true) {
    parts.push(el('p', { className: 's-alert s-alert-info s-report-note', text: str(report.note) || t('portal.report.amended') }));
  }
  if (str(report.impression).trim()) {
    parts.push(el('p', { className: 's-report-label', text: t('portal.report.impression') }));
    parts.push(el('p', { className: 's-report-impression', text: str(report.impression) }));
  }
  if (str(report.addendum).trim()) {
    parts.push(el('p', { className: 's-report-label', text: t('portal.report.addendum') }));
    parts.push(el('p', { className: 's-report-impression', text: str(report.addendum) }));
  }
  if (isSharePath(report.pdf)) {
    parts.push(downloadLink(report.pdf, t('portal.report.pdfTitle'), t('portal.report.pdfText'),
      ['M6 3h9l3 3v15H6z', 'M9 9h6', 'M9 13h6', 'M9 17h4']));
  }
  var glossary = Array.isArray(report.glossary) ? report.glossary.filter(function (g) { return g && str(g.term); }) : [];
  if (glossary.length) {
    var list = el('dl', { className: 's-glossary' });
    glossary.forEach(function (g) {
      append(list, [el('dt', { text: str(g.term) }), el('dd', { text: str(g.meaning) })]);
    });
    parts.push(el('details', { className: 's-report-glossary' }, [
      el('summary', { text: t('portal.report.glossary') }), list]));
  }
  parts.push(el('p', { className: 's-muted s-small', text: t('portal.report.ask') }));
  return el('div', { className: 's-report' }, parts);
}

function render(data) {
  share = data;
  var hospital = data.hospital && typeof data.hospital === 'object' ? data.hospital : {};
  var hospitalName = str(hospital.name).trim();
  var studies = Array.isArray(data.studies) ? data.studies.filter(function (s) { return s && typeof s === 'object'; }) : [];

  $('top-hospital').textContent = hospitalName || t('portal.yourImages');
  document.title = t('portal.yourImages') + (hospitalName ? ' \u2014 ' + hospitalName : '');
  $('content-eyebrow').textContent = hospitalName ? t('portal.yourImagesFrom', { hospital: hospitalName }) : t('portal.yourImages');

  var patient = data.patient && typeof data.patient === 'object' ? data.patient : {};
  $('patient-name').textContent = formatName(patient.name) || t('portal.yourImages');

  var images = studies.reduce(function (sum, s) { var n = Number(s.images); return sum + (isFinite(n) ? n : 0); }, 0);
  $('share-summary').textContent = t('portal.studyCount', { count: studies.length }) + (images ? ' \u00b7 ' + imageCount(images) : '');

  var expires = parseIso(data.expires_at);
  var expiresNode = clear($('share-expires'));
  if (expires) {
    append(expiresNode, tParts('portal.worksUntil', { date: el('strong', { text: formatDate(expires) }) }));
  }

  var list = clear($('studies'));
  if (studies.length === 0) {
    list.appendChild(el('section', { className: 's-card' }, [
      el('p', { text: t('portal.noImagesLink') })
    ]));
  }
  studies.forEach(function (study, i) { list.appendChild(studyCard(study, i, hospitalName)); });

  renderHelp(hospital);
  scheduleSessionEnd(parseIso(data.session_expires_at));
  $('sign-out').hidden = false;
  showOnly('content');
}

function scheduleSessionEnd(at) {
  if (sessionTimer) clearTimeout(sessionTimer);
  sessionTimer = null;
  var note = $('session-note');
  if (!at) { note.textContent = ''; return; }
  note.textContent = t('portal.signOutAt', { time: formatTimeOfDay(at) });
  var delay = at.getTime() - Date.now();
  // setTimeout cannot wait longer than about 24 days; a session lasts an hour at most.
  sessionTimer = setTimeout(sessionEnded, Math.max(0, Math.min(delay, 2 * 60 * 60 * 1000)));
}

async function loadShare() {
  showOnly('loading');
  try {
    var data = await api(API_SHARE);
    if (!data || typeof data !== 'object') throw ApiError(500, t('portal.api.unexpected'));
    render(data);
  } catch (e) {
    if (ended) return;   // the session-ended message is shown
    if (e.status === 404 || e.status === 410 || e.status === 423) {
      showMessage(t('portal.unusable.title'), t('portal.unusable.text'), t('portal.unusable.action'), false);
    } else {
      showMessage(t('portal.loadFailed'), e.message, '', true);
    }
  }
}

/* ----------------------------------------------------------------------- viewer */

var V = null;   // the open viewer's state

function presetList(series) {
  var presets = Array.isArray(series.presets) ? series.presets.map(str) : [];
  return presets.filter(function (p, i) { return /^[a-z][a-z0-9-]{0,31}$/.test(p) && presets.indexOf(p) === i; });
}

function isTouchDevice() {
  return ('ontouchstart' in window) || (navigator.maxTouchPoints || 0) > 0;
}

function openViewer(study, series, opener) {
  if (ended || V) return;
  var presets = presetList(series);
  V = {
    study: study,
    series: series,
    opener: opener,
    instances: [],
    index: 0,
    preset: presets.indexOf('default') !== -1 ? 'default' : (presets[0] || ''),
    presets: presets,
    scale: 1, tx: 0, ty: 0,
    cache: new Map(),     // url → {img, promise, done, failed, index}
    shown: null,          // the <img> in the stage
    token: 0,
    wheel: 0,
    hintTimer: null,
    pushed: false
  };

  var title = str(series.description).trim() || str(series.modality).trim() || t('portal.images');
  $('viewer-title').textContent = title;
  var sub = [];
  if (study.date) sub.push(formatDay(study.date));
  if (str(study.description).trim() && str(study.description).trim() !== title) sub.push(str(study.description).trim());
  $('viewer-subtitle').textContent = sub.join(' \u00b7 ');
  $('viewer-position').textContent = '';
  setViewerMessage('');
  renderPresets();
  updateZoomLabel();
  setControlsEnabled(false);

  $('viewer').hidden = false;
  document.body.classList.add('s-viewer-open');
  try { history.pushState({ hbViewer: true }, ''); V.pushed = true; } catch (e) { V.pushed = false; }
  $('viewer-stage').focus();
  loadInstances();
}

function closeViewer(fromHistory) {
  if (!V) return;
  var state = V;
  V = null;
  state.token++;
  if (state.hintTimer) clearTimeout(state.hintTimer);
  state.cache.forEach(function (entry) { if (!entry.done) entry.img.src = ''; });
  state.cache.clear();
  if (state.shown && state.shown.parentNode) state.shown.parentNode.removeChild(state.shown);
  $('viewer').hidden = true;
  document.body.classList.remove('s-viewer-open');
  if (state.pushed && fromHistory !== true && history.state && history.state.hbViewer) {
    history.back();
  }
  if (state.opener && document.body.contains(state.opener)) state.opener.focus();
}

window.addEventListener('popstate', function () { if (V) closeViewer(true); });

function setViewerMessage(text) {
  var node = $('viewer-message');
  node.textContent = text || '';
  node.hidden = !text;
}

function showHint() {
  var hint = $('viewer-hint');
  hint.textContent = isTouchDevice()
    ? t('portal.hint.touch') : t('portal.hint.mouse');
  hint.hidden = false;
  if (V.instances.length < 2) {
    hint.textContent = isTouchDevice() ? t('portal.hint.touchOne') : t('portal.hint.mouseOne');
  }
  V.hintTimer = setTimeout(function () { hint.hidden = true; }, 5000);
}

function hideHint() {
  $('viewer-hint').hidden = true;
}

function setControlsEnabled(enabled) {
  ['viewer-slider', 'zoom-in', 'zoom-out', 'zoom-reset'].forEach(function (id) { $(id).disabled = !enabled; });
  if (!enabled) { $('viewer-prev').disabled = true; $('viewer-next').disabled = true; }
}

function renderPresets() {
  var box = clear($('viewer-presets'));
  if (!V || V.presets.length < 2) { box.hidden = true; return; }
  box.appendChild(el('span', { className: 's-viewer-presets-label', text: t('portal.contrast') }));
  V.presets.forEach(function (id) {
    var label = presetLabel(id);
    var button = el('button', {
      className: 's-vbutton',
      text: label,
      attrs: { type: 'button', 'aria-pressed': id === V.preset ? 'true' : 'false', 'data-preset': id }
    });
    button.addEventListener('click', function () { setPreset(id); });
    box.appendChild(button);
  });
  box.hidden = false;
}

function setPreset(id) {
  if (!V || V.preset === id) return;
  V.preset = id;
  Array.prototype.forEach.call($('viewer-presets').querySelectorAll('button'), function (b) {
    b.setAttribute('aria-pressed', b.getAttribute('data-preset') === id ? 'true' : 'false');
  });
  // Images of the other preset are not needed any more.
  V.cache.forEach(function (entry) { if (!entry.done) entry.img.src = ''; });
  V.cache.clear();
  show(V.index);
}

async function loadInstances() {
  var state = V;
  setViewerMessage(t('portal.loading'));
  var answer;
  try {
    answer = await api('/s/api/series/' + encodeURIComponent(str(state.series.id)) + '/instances');
  } catch (e) {
    if (state !== V) return;
    setViewerMessage(e.status === 403 ? '' : t('portal.viewer.loadFailed', { message: e.message }));
    return;
  }
  if (state !== V) return;
  var list = answer && Array.isArray(answer.instances) ? answer.instances : [];
  state.instances = list.filter(function (i) { return i && isSharePath(i.image); });
  if (state.instances.length === 0) {
    setViewerMessage(t('portal.viewer.noImages'));
    return;
  }
  setViewerMessage('');
  var slider = $('viewer-slider');
  slider.max = String(state.instances.length);
  slider.value = '1';
  slider.hidden = state.instances.length < 2;
  setControlsEnabled(true);
  showHint();
  show(0);
}

function imageUrl(index) {
  var url = new URL(V.instances[index].image, window.location.origin);
  url.searchParams.set('size', 'full');
  if (V.preset) url.searchParams.set('preset', V.preset);
  return url.pathname + url.search;
}

function pendingCount() {
  var n = 0;
  V.cache.forEach(function (entry) { if (!entry.done && !entry.failed) n++; });
  return n;
}

// Drops what is farthest from the image shown: finished images beyond CACHE_SIZE, and
// downloads in flight beyond MAX_PENDING (fast scrolling must not queue a hundred).
function prune() {
  var entries = [];
  V.cache.forEach(function (entry, url) { entries.push({ url: url, entry: entry }); });
  entries.sort(function (a, b) { return Math.abs(b.entry.index - V.index) - Math.abs(a.entry.index - V.index); });
  var done = entries.filter(function (e) { return e.entry.done; }).length;
  var pending = entries.filter(function (e) { return !e.entry.done && !e.entry.failed; }).length;
  entries.forEach(function (e) {
    if (e.entry.index === V.index) return;
    if (e.entry.done && done > CACHE_SIZE) {
      if (e.entry.img !== V.shown) { V.cache.delete(e.url); done--; }
    } else if (!e.entry.done && !e.entry.failed && pending > MAX_PENDING) {
      e.entry.img.src = '';
      V.cache.delete(e.url);
      pending--;
    } else if (e.entry.failed) {
      V.cache.delete(e.url);
    }
  });
}

function load(index) {
  var url = imageUrl(index);
  var entry = V.cache.get(url);
  if (entry) return entry;
  var img = new Image();
  img.className = 's-viewer-image';
  img.alt = '';
  img.decoding = 'async';
  img.draggable = false;
  entry = { img: img, done: false, failed: false, index: index };
  entry.promise = new Promise(function (resolve, reject) {
    img.addEventListener('load', function () { entry.done = true; resolve(img); });
    img.addEventListener('error', function () { entry.failed = true; reject(new Error('image')); });
  });
  entry.promise.catch(function () { /* handled by show() */ });
  V.cache.set(url, entry);
  img.src = url;
  return entry;
}

function preloadAround(index) {
  if (!V) return;
  var order = [1, -1, 2, -2, 3];
  order.forEach(function (offset) {
    var i = index + offset;
    if (i >= 0 && i < V.instances.length && pendingCount() < MAX_PENDING) load(i);
  });
}

function display(img) {
  var stage = $('viewer-stage');
  if (V.shown === img) return;
  if (V.shown && V.shown.parentNode) V.shown.parentNode.removeChild(V.shown);
  stage.insertBefore(img, stage.firstChild);
  V.shown = img;
  applyTransform();
}

function show(index) {
  if (!V || V.instances.length === 0) return;
  index = Math.max(0, Math.min(V.instances.length - 1, index));
  V.index = index;
  var n = V.instances.length;
  $('viewer-position').textContent = (index + 1) + ' / ' + n;
  $('viewer-slider').value = String(index + 1);
  $('viewer-prev').disabled = index === 0;
  $('viewer-next').disabled = index === n - 1;

  var token = ++V.token;
  var state = V;
  prune();
  var entry = load(index);
  if (entry.done) {
    $('viewer-loading').hidden = true;
    setViewerMessage('');
    display(entry.img);
    preloadAround(index);
    return;
  }
  $('viewer-loading').hidden = false;
  entry.promise.then(function (img) {
    if (state !== V || token !== V.token) return;
    $('viewer-loading').hidden = true;
    setViewerMessage('');
    display(img);
    preloadAround(index);
  }, function () {
    if (state !== V || token !== V.token) return;
    $('viewer-loading').hidden = true;
    if (V.shown && V.shown.parentNode) V.shown.parentNode.removeChild(V.shown);
    V.shown = null;
    setViewerMessage(t('portal.viewer.imageFailed'));
    // A failed image is often a session that ended: ask the API, which says so (403).
    api(API_SHARE).catch(function () { /* sessionEnded() already ran for a 403 */ });
  });
}

function step(delta) {
  if (!V || V.instances.length === 0) return;
  var target = Math.max(0, Math.min(V.instances.length - 1, V.index + delta));
  if (target !== V.index) show(target);
  hideHint();
}

/* ------------------------------------------------------------------- zoom, pan */

function stageSize() {
  var rect = $('viewer-stage').getBoundingClientRect();
  return { width: rect.width, height: rect.height, left: rect.left, top: rect.top };
}

function clampPan() {
  var size = stageSize();
  if (V.scale <= ZOOM_MIN + 0.001) { V.scale = ZOOM_MIN; V.tx = 0; V.ty = 0; return; }
  V.tx = Math.min(0, Math.max(size.width - size.width * V.scale, V.tx));
  V.ty = Math.min(0, Math.max(size.height - size.height * V.scale, V.ty));
}

function applyTransform() {
  if (!V) return;
  clampPan();
  if (V.shown) {
    V.shown.style.transform = V.scale === 1 ? '' :
      'translate(' + V.tx.toFixed(1) + 'px, ' + V.ty.toFixed(1) + 'px) scale(' + V.scale.toFixed(4) + ')';
  }
  updateZoomLabel();
}

function updateZoomLabel() {
  var scale = V ? V.scale : 1;
  $('zoom-reset').textContent = Math.round(scale * 100) + '%';
  $('zoom-out').disabled = !V || scale <= ZOOM_MIN + 0.001 || V.instances.length === 0;
  $('zoom-in').disabled = !V || scale >= ZOOM_MAX - 0.001 || V.instances.length === 0;
}

// Zooms so that the stage point (fx, fy) stays where it is.
function zoomTo(scale, fx, fy) {
  if (!V) return;
  var size = stageSize();
  if (fx === undefined) { fx = size.width / 2; fy = size.height / 2; }
  scale = Math.max(ZOOM_MIN, Math.min(ZOOM_MAX, scale));
  V.tx = fx - (fx - V.tx) * scale / V.scale;
  V.ty = fy - (fy - V.ty) * scale / V.scale;
  V.scale = scale;
  applyTransform();
  hideHint();
}

function toggleZoom(fx, fy) {
  if (!V) return;
  if (V.scale > 1.05) zoomTo(1); else zoomTo(2.5, fx, fy);
}

/* --------------------------------------------------------------------- gestures */

// One pointer (a finger or the mouse): pans when zoomed, otherwise a quick sideways swipe
// moves one image and dragging up or down scrolls through the series.
var drag = null;
var lastTap = null;

function dragStart(x, y) {
  if (!V) return;
  var size = stageSize();
  drag = {
    x0: x, y0: y, t0: Date.now(), tx0: V.tx, ty0: V.ty, mode: V.scale > 1.01 ? 'pan' : 'pending',
    stepY: y, stepPx: Math.max(6, Math.min(40, size.height / Math.max(1, V.instances.length) * 1.5)),
    left: size.left, top: size.top
  };
}

function dragMove(x, y) {
  if (!V || !drag) return;
  var dx = x - drag.x0;
  var dy = y - drag.y0;
  if (drag.mode === 'pending') {
    if (Math.abs(dy) > 12 && Math.abs(dy) > Math.abs(dx)) { drag.mode = 'scroll'; drag.stepY = y; }
    else if (Math.abs(dx) > 12 && Math.abs(dx) >= Math.abs(dy)) drag.mode = 'swipe';
  }
  if (drag.mode === 'pan') {
    V.tx = drag.tx0 + dx;
    V.ty = drag.ty0 + dy;
    applyTransform();
    $('viewer-stage').classList.add('s-dragging');
  } else if (drag.mode === 'scroll') {
    var steps = Math.trunc((drag.stepY - y) / drag.stepPx);   // finger up → next image
    if (steps !== 0) {
      drag.stepY -= steps * drag.stepPx;
      step(steps);
    }
  }
}

function dragEnd(x, y) {
  if (!V || !drag) { drag = null; return; }
  var dx = x - drag.x0;
  var dy = y - drag.y0;
  var quick = Date.now() - drag.t0 < 300;
  if (drag.mode === 'swipe' && Math.abs(dx) > 40) {
    step(dx < 0 ? 1 : -1);
  } else if ((drag.mode === 'pending' || drag.mode === 'pan') && quick && Math.abs(dx) < 10 && Math.abs(dy) < 10) {
    drag.tap = true;
  }
  $('viewer-stage').classList.remove('s-dragging');
  var wasTap = drag.tap === true;
  var left = drag.left;
  var top = drag.top;
  drag = null;
  return wasTap ? { x: x - left, y: y - top } : null;
}

var pinch = null;

function touchDistance(a, b) { return Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY); }

function onTouchStart(event) {
  if (!V) return;
  event.preventDefault();
  if (event.touches.length >= 2) {
    drag = null;
    var a = event.touches[0];
    var b = event.touches[1];
    var size = stageSize();
    pinch = {
      d0: Math.max(1, touchDistance(a, b)), s0: V.scale, tx0: V.tx, ty0: V.ty,
      mx0: (a.clientX + b.clientX) / 2 - size.left, my0: (a.clientY + b.clientY) / 2 - size.top,
      left: size.left, top: size.top
    };
    hideHint();
  } else if (event.touches.length === 1 && !pinch) {
    dragStart(event.touches[0].clientX, event.touches[0].clientY);
  }
}

function onTouchMove(event) {
  if (!V) return;
  event.preventDefault();
  if (pinch && event.touches.length >= 2) {
    var a = event.touches[0];
    var b = event.touches[1];
    var scale = Math.max(ZOOM_MIN, Math.min(ZOOM_MAX, pinch.s0 * touchDistance(a, b) / pinch.d0));
    var mx = (a.clientX + b.clientX) / 2 - pinch.left;
    var my = (a.clientY + b.clientY) / 2 - pinch.top;
    // The image point under the fingers' first midpoint follows the midpoint.
    var px = (pinch.mx0 - pinch.tx0) / pinch.s0;
    var py = (pinch.my0 - pinch.ty0) / pinch.s0;
    V.scale = scale;
    V.tx = mx - px * scale;
    V.ty = my - py * scale;
    applyTransform();
  } else if (event.touches.length === 1 && drag) {
    dragMove(event.touches[0].clientX, event.touches[0].clientY);
  }
}

function onTouchEnd(event) {
  if (!V) return;
  event.preventDefault();
  if (pinch) {
    if (event.touches.length < 2) {
      pinch = null;
      // The finger still down pans from here, without turning into a swipe.
      if (event.touches.length === 1) {
        dragStart(event.touches[0].clientX, event.touches[0].clientY);
        if (drag) drag.mode = V.scale > 1.01 ? 'pan' : 'done';
      }
    }
    return;
  }
  if (!drag || event.changedTouches.length === 0) return;
  var t = event.changedTouches[0];
  var tap = dragEnd(t.clientX, t.clientY);
  if (tap) {
    var now = Date.now();
    if (lastTap && now - lastTap.t < 320 && Math.abs(lastTap.x - tap.x) < 30 && Math.abs(lastTap.y - tap.y) < 30) {
      toggleZoom(tap.x, tap.y);
      lastTap = null;
    } else {
      lastTap = { t: now, x: tap.x, y: tap.y };
    }
  }
}

function onTouchCancel() {
  pinch = null;
  drag = null;
  $('viewer-stage').classList.remove('s-dragging');
}

function onMouseDown(event) {
  if (!V || event.button !== 0) return;
  event.preventDefault();
  $('viewer-stage').focus();
  dragStart(event.clientX, event.clientY);
  document.addEventListener('mousemove', onMouseMove);
  document.addEventListener('mouseup', onMouseUp);
}

function onMouseMove(event) { dragMove(event.clientX, event.clientY); }

function onMouseUp(event) {
  document.removeEventListener('mousemove', onMouseMove);
  document.removeEventListener('mouseup', onMouseUp);
  dragEnd(event.clientX, event.clientY);
}

function onDoubleClick(event) {
  if (!V) return;
  var size = stageSize();
  toggleZoom(event.clientX - size.left, event.clientY - size.top);
}

function onWheel(event) {
  if (!V) return;
  event.preventDefault();
  var unit = event.deltaMode === 1 ? 16 : (event.deltaMode === 2 ? 400 : 1);
  var delta = event.deltaY * unit;
  if (event.ctrlKey) {
    // A trackpad pinch arrives as ctrl + wheel.
    var size = stageSize();
    zoomTo(V.scale * Math.exp(-delta * 0.01), event.clientX - size.left, event.clientY - size.top);
    return;
  }
  // One image per mouse-wheel notch (about 100 px, or one event in line or page mode);
  // trackpads send many small deltas, added up here.
  if (event.deltaMode !== 0) {
    if (delta !== 0) step(delta > 0 ? 1 : -1);
    return;
  }
  V.wheel += delta;
  var threshold = 100;
  var steps = Math.trunc(V.wheel / threshold);
  if (steps !== 0) {
    V.wheel -= steps * threshold;
    step(Math.max(-3, Math.min(3, steps)));
  }
}

function onKeyDown(event) {
  if (!V) return;
  var key = event.key;
  if (key === 'Escape') { event.preventDefault(); closeViewer(false); return; }
  if (key === 'Tab') { trapFocus(event); return; }
  var target = event.target;
  var onSlider = target === $('viewer-slider');
  var onButton = target && target.tagName === 'BUTTON';
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  var handled = true;
  if ((key === 'ArrowRight' || key === 'ArrowDown') && !onSlider) step(1);
  else if ((key === 'ArrowLeft' || key === 'ArrowUp') && !onSlider) step(-1);
  else if (key === 'PageDown') step(10);
  else if (key === 'PageUp') step(-10);
  else if (key === 'Home' && !onSlider) show(0);
  else if (key === 'End' && !onSlider) show(V.instances.length - 1);
  else if (key === '+' || key === '=') zoomTo(V.scale * 1.5);
  else if (key === '-' || key === '_') zoomTo(V.scale / 1.5);
  else if (key === '0') zoomTo(1);
  else if ((key === ' ' || key === 'Enter') && !onButton) step(1);
  else handled = false;
  if (handled) event.preventDefault();
}

function trapFocus(event) {
  var focusable = Array.prototype.filter.call(
    $('viewer').querySelectorAll('button, input, [tabindex="0"]'),
    function (node) { return !node.disabled && !node.hidden && node.offsetParent !== null; });
  if (focusable.length === 0) return;
  var first = focusable[0];
  var last = focusable[focusable.length - 1];
  if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
  else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
}

/* ------------------------------------------------------------------------ start */

function bind() {
  $('sign-out').addEventListener('click', signOut);
  $('message-retry').addEventListener('click', loadShare);

  var stage = $('viewer-stage');
  stage.addEventListener('touchstart', onTouchStart, { passive: false });
  stage.addEventListener('touchmove', onTouchMove, { passive: false });
  stage.addEventListener('touchend', onTouchEnd, { passive: false });
  stage.addEventListener('touchcancel', onTouchCancel);
  stage.addEventListener('mousedown', onMouseDown);
  stage.addEventListener('dblclick', onDoubleClick);
  stage.addEventListener('wheel', onWheel, { passive: false });
  document.addEventListener('keydown', onKeyDown);

  $('viewer-close').addEventListener('click', function () { closeViewer(false); });
  $('viewer-prev').addEventListener('click', function () { step(-1); });
  $('viewer-next').addEventListener('click', function () { step(1); });
  $('viewer-slider').addEventListener('input', function (event) {
    if (V) show(Number(event.target.value) - 1);
    hideHint();
  });
  $('zoom-in').addEventListener('click', function () { if (V) zoomTo(V.scale * 1.5); });
  $('zoom-out').addEventListener('click', function () { if (V) zoomTo(V.scale / 1.5); });
  $('zoom-reset').addEventListener('click', function () { if (V) zoomTo(1); });
  window.addEventListener('resize', function () { if (V) applyTransform(); });

  // Back from another app after the session ran out: check at once rather than at the timer.
  document.addEventListener('visibilitychange', function () {
    if (document.hidden || ended || !share) return;
    var at = parseIso(share.session_expires_at);
    if (at && at.getTime() <= Date.now()) sessionEnded();
  });
}

bind();
loadShare();
