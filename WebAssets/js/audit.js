/*
 * Audit trail (administrators): who did what, when, from where, with which outcome.
 *   GET /bridge/system                  (layout)
 *   GET /bridge/audit?patient_id=&study_uid=&actor=&action=&from=&to=&limit=&offset=   newest first
 *   GET /bridge/audit/verify            (hash chain status banner)
 *   /bridge/audit/export?format=fhir|dicom&<the same filters>   (plain download links)
 * The page URL carries the filters (audit.html?study_uid=… is what Orthanc Explorer links to);
 * "from"/"to" are the browser's local days, sent to the server as ISO UTC datetimes covering them.
 * Audit details and actor names are attacker-controllable (user names, AETs, paths, DICOM
 * values): they reach the DOM only via textContent / el(), never as HTML.
 */
import { api, describeError } from '../lib/api.js';
import { byId, el, clear, appendChildren, setAttr } from '../lib/dom.js';
import { formatNumber, localDay } from '../lib/format.js';
import { t, has } from '../lib/i18n.js';
import { initLayout, roleLabel } from '../lib/layout.js';
import { str, isObject, objects, clip } from '../lib/text.js';
import { cell, showAlert } from '../lib/ui.js';

const PAGE_SIZE = 50;
const PAGE = '/bridge/app/audit.html';
const FILTERS = ['patient_id', 'study_uid', 'actor', 'action', 'from', 'to'];
const INPUTS = { patient_id: 'f-patient', study_uid: 'f-study', actor: 'f-actor', action: 'f-action', from: 'f-from', to: 'f-to' };
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const PATIENT_ID = /^PAT-[A-Za-z0-9]+$/;

// The server's one vocabulary of actions (GET /bridge/audit/actions), in its
// order: [{action, group, words, plain_words}]. Texts come from the locale when
// it has them (audit.action.<action>), else the server's English words.
let vocabulary = [];
const OUTCOME_TONES = { success: 'ok', failure: 'error', denied: 'warn' };

const state = { filters: {}, offset: 0 };
let brokenId = null;
let seq = 0;

function actionLabel(action) {
  if (has('audit.action.' + action)) return t('audit.action.' + action);
  const known = vocabulary.find(function (entry) { return entry.action === action; });
  return known ? str(known.words) : '';
}

function actionGroups() {
  const groups = [];
  vocabulary.forEach(function (entry) {
    let group = groups.find(function (g) { return g.key === entry.group; });
    if (!group) groups.push(group = { key: str(entry.group), actions: [] });
    group.actions.push(str(entry.action));
  });
  return groups;
}

/* ------------------------------------------------------------ filters */

function fillActionChoice(extra) {
  const select = byId('f-action');
  while (select.options.length > 1) select.remove(1);
  Array.prototype.slice.call(select.querySelectorAll('optgroup')).forEach(function (g) { select.removeChild(g); });
  actionGroups().forEach(function (group) {
    const label = has('audit.group.' + group.key) ? t('audit.group.' + group.key) : group.key;
    const node = el('optgroup', { attrs: { label: label } });
    group.actions.forEach(function (action) {
      node.appendChild(el('option', { text: actionLabel(action) + ' (' + action + ')', attrs: { value: action } }));
    });
    select.appendChild(node);
  });
  // An action this page does not know yet (e.g. "share.created" from a link): keep it selectable.
  if (extra && !actionLabel(extra)) select.appendChild(el('option', { text: extra, attrs: { value: extra } }));
}

function readUrl() {
  const params = new URLSearchParams(window.location.search);
  const filters = {};
  FILTERS.forEach(function (k) {
    const v = (params.get(k) || '').trim();
    if (v) filters[k] = v;
  });
  const offset = parseInt(params.get('offset') || '0', 10);
  state.filters = filters;
  state.offset = isFinite(offset) && offset > 0 ? offset : 0;
}

function writeForm() {
  fillActionChoice(state.filters.action);
  FILTERS.forEach(function (k) {
    byId(INPUTS[k]).value = state.filters[k] || '';
    byId(INPUTS[k]).removeAttribute('aria-invalid');
  });
}

function readForm() {
  const filters = {};
  FILTERS.forEach(function (k) {
    let v = byId(INPUTS[k]).value;
    v = typeof v === 'string' ? v.trim() : '';
    if (v) filters[k] = v;
  });
  return filters;
}

function pageUrl(filters, offset) {
  const p = new URLSearchParams();
  FILTERS.forEach(function (k) { if (filters[k]) p.set(k, filters[k]); });
  if (offset) p.set('offset', String(offset));
  const search = p.toString();
  return PAGE + (search ? '?' + search : '');
}

function writeUrl() {
  try { window.history.replaceState(null, '', pageUrl(state.filters, state.offset)); } catch (e) { /* ignore */ }
}

function isoNoMillis(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// A local day "YYYY-MM-DD" → its start (from) or the next day's start (to: the server's upper
// bound is exclusive), as ISO UTC: the days the user picks are the browser's, like the times shown.
function localDayBound(day, end) {
  if (!DAY.test(day)) return day;   // let the server judge (and name) anything else
  const parts = day.split('-').map(Number);
  const d = new Date(parts[0], parts[1] - 1, parts[2] + (end ? 1 : 0), 0, 0, 0);
  return isNaN(d.getTime()) ? day : isoNoMillis(d);
}

// The filters as the server wants them (also used for the export links).
function serverQuery(filters) {
  const q = {};
  FILTERS.forEach(function (k) { if (filters[k]) q[k] = filters[k]; });
  if (q.from) q.from = localDayBound(q.from, false);
  if (q.to) q.to = localDayBound(q.to, true);
  return q;
}

function updateExportLinks() {
  const q = serverQuery(state.filters);
  const day = localDay(new Date());
  [['export-fhir', 'fhir', 'audit-' + day + '.fhir.json'], ['export-dicom', 'dicom', 'audit-' + day + '.xml']].forEach(function (x) {
    const p = new URLSearchParams();
    p.set('format', x[1]);
    FILTERS.forEach(function (k) { if (q[k]) p.set(k, q[k]); });
    const link = byId(x[0]);
    setAttr(link, 'href', '/bridge/audit/export?' + p.toString());
    link.setAttribute('download', x[2]);
  });
}

function isCalendarDay(day) {
  if (!DAY.test(day)) return false;
  const p = day.split('-').map(Number);
  const d = new Date(p[0], p[1] - 1, p[2]);
  return d.getFullYear() === p[0] && d.getMonth() === p[1] - 1 && d.getDate() === p[2];
}

function validate(filters) {
  const problems = [];
  ['from', 'to'].forEach(function (k) {
    byId(INPUTS[k]).removeAttribute('aria-invalid');
    if (filters[k] && !isCalendarDay(filters[k])) {
      problems.push(t(k === 'from' ? 'audit.fromNotDate' : 'audit.toNotDate'));
      byId(INPUTS[k]).setAttribute('aria-invalid', 'true');
    }
  });
  if (!problems.length && filters.from && filters.to && filters.from > filters.to) {
    problems.push(t('audit.fromAfterTo'));
    byId('f-to').setAttribute('aria-invalid', 'true');
  }
  return problems;
}

function applyFilters(filters, focusTable) {
  const problems = validate(filters);
  if (problems.length) {
    showAlert('audit-error', problems.join('; ') + '.');
    return;
  }
  state.filters = filters;
  state.offset = 0;
  writeForm();
  writeUrl();
  load(focusTable);
}

/* -------------------------------------------------------------- events */

// A link that narrows the list to events with this value (a real link: it opens in a new tab too).
function filterLink(key, value, text, className, title) {
  const filters = {};
  filters[key] = value;
  const link = el('a', {
    className: className || '', text: text,
    attrs: { href: pageUrl(filters, 0), title: title || t('audit.filter.these') }
  });
  link.addEventListener('click', function (event) {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    const next = Object.assign({}, state.filters);
    next[key] = value;
    applyFilters(next, true);
  });
  return link;
}

// Local date and time (to the second) on two lines; the UTC value is in the tooltip.
function timeNode(iso, id) {
  const d = new Date(iso);
  const idText = id ? ' \u00b7 #' + id : '';
  if (!iso || isNaN(d.getTime())) {
    return [el('span', { text: str(iso) || '\u2014' }), id ? el('span', { className: 'hb-subtext', text: '#' + id }) : null];
  }
  return [
    el('time', {
      text: d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' }),
      attrs: { datetime: str(iso), title: t('audit.utc', { time: str(iso) }) }
    }),
    el('span', {
      className: 'hb-subtext',
      text: d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' }) + idText
    })
  ];
}

function shortValue(value, depth) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    if (depth > 1) return '[' + value.length + ']';
    const items = value.slice(0, 6).map(function (v) { return shortValue(v, depth + 1); });
    if (value.length > 6) items.push(t('audit.more', { count: value.length - 6 }));
    return items.join(', ');
  }
  if (typeof value === 'object') {
    // {id, name, status} of a site and the like: the most telling fields first.
    const keys = ['name', 'id', 'status', 'site', 'count'].filter(function (k) { return value[k] !== undefined && value[k] !== null && value[k] !== ''; });
    if (keys.length && depth > 0) return keys.map(function (k) { return shortValue(value[k], depth + 1); }).join(' ');
    const all = Object.keys(value);
    return all.slice(0, 4).map(function (k) { return k + ': ' + shortValue(value[k], depth + 1); }).join(', ') +
      (all.length > 4 ? ', \u2026' : '');
  }
  return String(value);
}

function detailNode(detail) {
  if (detail === undefined || detail === null || detail === '') return '';
  if (!isObject(detail)) return el('span', { className: 'hb-audit-detail', text: clip(shortValue(detail, 0), 200) });
  const keys = Object.keys(detail);
  if (!keys.length) return '';
  const request = typeof detail.method === 'string' && typeof detail.path === 'string';
  // Empty values say nothing in the one-line summary (the full JSON keeps them).
  let parts = keys.filter(function (k) {
    const v = detail[k];
    if (request && (k === 'method' || k === 'path')) return false;
    return !(v === '' || v === null || v === undefined || (Array.isArray(v) && v.length === 0));
  }).map(function (k) { return k + ': ' + shortValue(detail[k], 1); });
  if (request) parts.unshift(detail.method + ' ' + detail.path);
  if (!parts.length) parts = [t('audit.noDetail')];
  const summary = clip(parts.join(' \u00b7 '), 220);
  let full;
  try { full = JSON.stringify(detail, null, 2); } catch (e) { full = summary; }
  return el('details', { className: 'hb-audit-detail' }, [
    el('summary', { text: summary }),
    el('pre', { className: 'hb-pre', text: full })
  ]);
}

function actorNode(actor) {
  actor = isObject(actor) ? actor : { name: str(actor) };
  const name = str(actor.name);
  const kind = str(actor.kind);
  const meta = [];
  if (actor.role && !(kind === 'peer' && actor.role === 'peer')) meta.push(roleLabel(str(actor.role)));
  if (kind && (kind !== 'user' || !actor.role)) meta.push(has('audit.kind.' + kind) ? t('audit.kind.' + kind) : kind);
  return [
    name ? filterLink('actor', name, name, 'hb-strong', t('audit.filter.actor'))
      : el('span', { className: 'hb-muted', text: t('audit.unknownActor') }),
    meta.length ? el('span', { className: 'hb-subtext', text: meta.join(' \u00b7 ') }) : null
  ];
}

function actionNode(action) {
  action = str(action);
  if (!action) return '';
  const label = actionLabel(action);
  return [
    filterLink('action', action, label || action, '', t('audit.filter.actions')),
    label ? el('span', { className: 'hb-subtext hb-id', text: action }) : null
  ];
}

function outcomeNode(outcome) {
  outcome = str(outcome);
  const known = Object.prototype.hasOwnProperty.call(OUTCOME_TONES, outcome);
  return el('span', {
    className: 'hb-badge hb-badge-' + (known ? OUTCOME_TONES[outcome] : 'error'),
    text: known ? t('audit.outcome.' + outcome) : (outcome || t('common.unknown'))
  });
}

function eventRow(ev) {
  const id = str(ev.id);
  const patient = str(ev.patient_id);
  const study = str(ev.study_uid);
  const outcome = str(ev.outcome);
  const classes = [];
  if (outcome && outcome !== 'success') classes.push('hb-row-' + (OUTCOME_TONES[outcome] || 'error'));
  if (brokenId !== null && id === brokenId) classes.push('hb-row-broken');
  return el('tr', { className: classes.join(' '), attrs: { 'data-event-id': id || null } }, [
    cell(t('audit.col.time'), timeNode(ev.time, id), 'hb-nowrap'),
    cell(t('audit.col.actor'), actorNode(ev.actor)),
    cell(t('audit.col.sourceIp'), str(ev.source_ip) ? el('span', { className: 'hb-id', text: str(ev.source_ip) }) : ''),
    cell(t('audit.col.action'), actionNode(ev.action)),
    cell(t('audit.col.outcome'), outcome ? outcomeNode(outcome) : ''),
    cell(t('audit.col.patient'), patient ? [
      filterLink('patient_id', patient, patient, 'hb-id', t('audit.filter.patient')),
      PATIENT_ID.test(patient) ? el('a', {
        className: 'hb-subtext hb-no-print', text: t('audit.openRecord'),
        attrs: { href: '/bridge/app/patients.html?id=' + encodeURIComponent(patient) }
      }) : null
    ] : ''),
    cell(t('audit.col.study'), study ? filterLink('study_uid', study, study, 'hb-id hb-uid', t('audit.filter.study')) : ''),
    cell(t('audit.col.detail'), detailNode(ev.detail), 'hb-audit-detail-cell')
  ]);
}

function describeFilters(filters) {
  const parts = [];
  if (filters.patient_id) parts.push(t('audit.describe.patient', { value: filters.patient_id }));
  if (filters.study_uid) parts.push(t('audit.describe.study', { value: filters.study_uid }));
  if (filters.actor) parts.push(t('audit.describe.actor', { value: filters.actor }));
  if (filters.action) parts.push(actionLabel(filters.action) || filters.action);
  if (filters.from && filters.to) parts.push(t('audit.describe.between', { from: filters.from, to: filters.to }));
  else if (filters.from) parts.push(t('audit.describe.from', { from: filters.from }));
  else if (filters.to) parts.push(t('audit.describe.until', { to: filters.to }));
  return parts.join(', ');
}

function render(answer) {
  const events = objects(answer.events);
  const total = typeof answer.total === 'number' ? answer.total : events.length;
  const offset = typeof answer.offset === 'number' ? answer.offset : state.offset;
  const body = clear(byId('events-body'));
  events.forEach(function (ev) { body.appendChild(eventRow(ev)); });
  const filtered = Object.keys(state.filters).length > 0;
  byId('events-wrap').hidden = events.length === 0;
  byId('events-empty').hidden = events.length !== 0;
  byId('events-empty').textContent = filtered ? t('audit.noMatch') : (offset > 0 ? t('audit.noMore') : t('audit.empty'));
  const what = describeFilters(state.filters);
  byId('events-summary').textContent = events.length === 0 ? (what ? t('audit.filtered', { what: what }) : '') :
    t('audit.summary', { from: formatNumber(offset + 1), to: formatNumber(offset + events.length), count: total }) +
    (what ? ' \u00b7 ' + what : '');
  byId('pager').hidden = total <= PAGE_SIZE && offset === 0;
  byId('page-prev').disabled = offset <= 0;
  byId('page-next').disabled = offset + events.length >= total;
  byId('page-info').textContent = t('common.pageOf', {
    page: formatNumber(Math.floor(offset / PAGE_SIZE) + 1), pages: formatNumber(Math.max(1, Math.ceil(total / PAGE_SIZE)))
  });
}

async function load(focusTable) {
  const mine = ++seq;
  showAlert('audit-error', '');
  updateExportLinks();
  byId('events-summary').textContent = t('common.loading');
  const query = serverQuery(state.filters);
  query.limit = PAGE_SIZE;
  query.offset = state.offset;
  try {
    const answer = await api('/bridge/audit', { query: query, timeoutMs: 60000 });
    if (mine !== seq) return;
    render(isObject(answer) ? answer : {});
    if (focusTable) byId('events-heading').scrollIntoView({ block: 'nearest' });
  } catch (e) {
    if (mine !== seq) return;
    byId('events-summary').textContent = '';
    byId('events-wrap').hidden = true;
    byId('pager').hidden = true;
    if (e.status === 403) {
      showAlert('audit-error', t('audit.adminOnly'));
      // Nothing here is usable for this role: leave just the explanation.
      ['filter-form', 'chain', 'events-summary'].forEach(function (id) { byId(id).hidden = true; });
      document.querySelectorAll('.hb-page-head .hb-actions').forEach(function (node) { node.hidden = true; });
    } else if (e.status === 400) {
      showAlert('audit-error', t('audit.notAccepted', { detail: e.detail || e.message }));
      const bad = /from|to|patient|study|actor|action/.exec(e.detail || '');
      if (bad) {
        const key = { from: 'from', to: 'to', patient: 'patient_id', study: 'study_uid', actor: 'actor', action: 'action' }[bad[0]];
        if (INPUTS[key]) byId(INPUTS[key]).setAttribute('aria-invalid', 'true');
      }
    } else {
      showAlert('audit-error', t('audit.loadFailed', { error: describeError(e) }));
    }
  }
}

/* ---------------------------------------------------------- chain check */

async function verify() {
  const box = byId('chain');
  const text = byId('chain-text');
  const again = byId('chain-again');
  box.className = 'hb-alert hb-alert-info hb-chain';
  text.textContent = t('audit.chain.checking');
  again.hidden = true;
  try {
    let r = await api('/bridge/audit/verify', { timeoutMs: 120000 });
    r = isObject(r) ? r : {};
    const checked = typeof r.events_checked === 'number' ? formatNumber(r.events_checked) : '?';
    clear(text);
    if (r.ok === true) {
      box.className = 'hb-alert hb-alert-ok hb-chain';
      brokenId = null;
      appendChildren(text, [el('strong', { text: t('audit.chain.intact', { checked: checked }) })]);
      if (isObject(r.checkpoint) && r.checkpoint.last_pruned_id !== undefined && r.checkpoint.last_pruned_id !== null) {
        text.appendChild(document.createTextNode(' ' + t('audit.chain.pruned', { id: str(r.checkpoint.last_pruned_id) })));
      }
    } else {
      box.className = 'hb-alert hb-alert-error hb-chain';
      const broken = isObject(r.first_broken) ? r.first_broken : {};
      brokenId = broken.id !== undefined && broken.id !== null ? str(broken.id) : null;
      appendChildren(text, [
        el('strong', { text: t('audit.chain.broken', { id: brokenId !== null ? brokenId : '?', reason: str(broken.reason) || t('audit.chain.unknownReason') }) }),
        ' ' + t('audit.chain.brokenAdvice', { checked: checked })
      ]);
      document.querySelectorAll('#events-body tr').forEach(function (tr) {
        tr.classList.toggle('hb-row-broken', brokenId !== null && tr.getAttribute('data-event-id') === brokenId);
      });
    }
  } catch (e) {
    box.className = 'hb-alert hb-alert-warn hb-chain';
    text.textContent = e.status === 403 ? t('audit.chain.adminOnly') : t('audit.chain.failed', { error: describeError(e) });
  }
  again.hidden = false;
}

/* ---------------------------------------------------------------- start */

readUrl();
writeForm();
byId('filter-form').addEventListener('submit', function (event) {
  event.preventDefault();
  applyFilters(readForm(), false);
});
byId('filter-clear').addEventListener('click', function () {
  showAlert('audit-error', '');
  applyFilters({}, false);
  byId('f-patient').focus();
});
byId('page-prev').addEventListener('click', function () {
  state.offset = Math.max(0, state.offset - PAGE_SIZE);
  writeUrl();
  load(true);
});
byId('page-next').addEventListener('click', function () {
  state.offset += PAGE_SIZE;
  writeUrl();
  load(true);
});
byId('chain-again').addEventListener('click', verify);
window.addEventListener('popstate', function () { readUrl(); writeForm(); load(false); });

initLayout({ page: 'audit', title: t('audit.title') }).catch(function (e) {
  showAlert('audit-error', t('common.sessionFailed', { error: describeError(e) }));
});
try {
  const answer = await api('/bridge/audit/actions', { timeoutMs: 30000 });
  vocabulary = Array.isArray(answer.actions) ? answer.actions : [];
  fillActionChoice(state.filters.action);
} catch (e) {
  showAlert('audit-error', describeError(e));
}
const problems = validate(state.filters);
if (problems.length) {
  showAlert('audit-error', problems.join('; ') + '.');
  byId('events-summary').textContent = '';
} else {
  load(false);
}
verify();
