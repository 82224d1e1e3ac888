/*
 * Audit trail (administrators): who did what, when, from where, with which outcome.
 *   GET /bridge/system                  (layout)
 *   GET /bridge/audit?patient_id=&study_uid=&actor=&action=&from=&to=&limit=&offset=   newest first
 *   GET /bridge/audit/verify            (hash chain status banner)
 *   /bridge/audit/export?format=fhir|dicom&<the same filters>   (plain download links)
 * The page URL carries the filters (audit.html?study_uid=… is what Orthanc Explorer links to);
 * "from"/"to" are the browser's local days, sent to the server as ISO UTC datetimes covering them.
 * Audit details and actor names are attacker-controllable (user names, AETs, paths, DICOM
 * values): they reach the DOM only via textContent / HB.el, never as HTML.
 */
(function () {
  'use strict';

  var el = HB.el;

  var PAGE_SIZE = 50;
  var PAGE = '/bridge/app/audit.html';
  var FILTERS = ['patient_id', 'study_uid', 'actor', 'action', 'from', 'to'];
  var INPUTS = { patient_id: 'f-patient', study_uid: 'f-study', actor: 'f-actor', action: 'f-action', from: 'f-from', to: 'f-to' };
  var DAY = /^\d{4}-\d{2}-\d{2}$/;
  var PATIENT_ID = /^PAT-[A-Za-z0-9]+$/;

  var ACTION_GROUPS = [
    { label: 'Sign-in and accounts', actions: ['login', 'login.failed', 'logout', 'user.created', 'user.changed'] },
    { label: 'Images', actions: ['dicom.stored', 'study.viewed', 'study.downloaded', 'study.exported', 'study.modified', 'study.deleted'] },
    { label: 'Federation', actions: ['federation.query.sent', 'federation.query.answered', 'federation.retrieve'] },
    { label: 'Consent', actions: ['consent.recorded'] },
    { label: 'System', actions: ['system.started'] }
  ];
  var ACTION_LABELS = {
    'login': 'Signed in',
    'login.failed': 'Sign-in failed',
    'logout': 'Signed out',
    'user.created': 'Account created',
    'user.changed': 'Account changed',
    'dicom.stored': 'Images received',
    'study.viewed': 'Study viewed',
    'study.downloaded': 'Study downloaded',
    'study.exported': 'Study exported',
    'study.modified': 'Study modified',
    'study.deleted': 'Study deleted',
    'federation.query.sent': 'Federation search',
    'federation.query.answered': 'Answered a peer\u2019s search',
    'federation.retrieve': 'Study retrieved from a peer',
    'consent.recorded': 'Consent recorded',
    'system.started': 'Server started'
  };
  var KIND_LABELS = { user: 'user', peer: 'Peer site', share: 'Share link', dicom: 'DICOM sender', system: 'System' };
  var OUTCOMES = {
    success: { label: 'Success', tone: 'ok' },
    failure: { label: 'Failure', tone: 'error' },
    denied: { label: 'Denied', tone: 'warn' }
  };

  var state = { filters: {}, offset: 0 };
  var brokenId = null;
  var seq = 0;

  function str(value) {
    return value === undefined || value === null ? '' : String(value);
  }

  function isObject(value) {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function showError(message) {
    var box = byId('audit-error');
    box.textContent = message || '';
    box.hidden = !message;
  }

  /* ------------------------------------------------------------ filters */

  function fillActionChoice(extra) {
    var select = byId('f-action');
    while (select.options.length > 1) select.remove(1);
    Array.prototype.slice.call(select.querySelectorAll('optgroup')).forEach(function (g) { select.removeChild(g); });
    ACTION_GROUPS.forEach(function (group) {
      var node = el('optgroup', { attrs: { label: group.label } });
      group.actions.forEach(function (action) {
        node.appendChild(el('option', { text: (ACTION_LABELS[action] || action) + ' (' + action + ')', attrs: { value: action } }));
      });
      select.appendChild(node);
    });
    // An action this page does not know yet (e.g. "share.created" from a link): keep it selectable.
    if (extra && !ACTION_LABELS[extra]) select.appendChild(el('option', { text: extra, attrs: { value: extra } }));
  }

  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    var filters = {};
    FILTERS.forEach(function (k) {
      var v = (params.get(k) || '').trim();
      if (v) filters[k] = v;
    });
    var offset = parseInt(params.get('offset') || '0', 10);
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
    var filters = {};
    FILTERS.forEach(function (k) {
      var v = byId(INPUTS[k]).value;
      v = typeof v === 'string' ? v.trim() : '';
      if (v) filters[k] = v;
    });
    return filters;
  }

  function pageUrl(filters, offset) {
    var p = new URLSearchParams();
    FILTERS.forEach(function (k) { if (filters[k]) p.set(k, filters[k]); });
    if (offset) p.set('offset', String(offset));
    var search = p.toString();
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
    var parts = day.split('-').map(Number);
    var d = new Date(parts[0], parts[1] - 1, parts[2] + (end ? 1 : 0), 0, 0, 0);
    return isNaN(d.getTime()) ? day : isoNoMillis(d);
  }

  // The filters as the server wants them (also used for the export links).
  function serverQuery(filters) {
    var q = {};
    FILTERS.forEach(function (k) { if (filters[k]) q[k] = filters[k]; });
    if (q.from) q.from = localDayBound(q.from, false);
    if (q.to) q.to = localDayBound(q.to, true);
    return q;
  }

  function updateExportLinks() {
    var q = serverQuery(state.filters);
    var stamp = new Date();
    var day = stamp.getFullYear() + '-' + String(stamp.getMonth() + 1).padStart(2, '0') + '-' + String(stamp.getDate()).padStart(2, '0');
    [['export-fhir', 'fhir', 'audit-' + day + '.fhir.json'], ['export-dicom', 'dicom', 'audit-' + day + '.xml']].forEach(function (x) {
      var p = new URLSearchParams();
      p.set('format', x[1]);
      FILTERS.forEach(function (k) { if (q[k]) p.set(k, q[k]); });
      var link = byId(x[0]);
      HB.setAttr(link, 'href', '/bridge/audit/export?' + p.toString());
      link.setAttribute('download', x[2]);
    });
  }

  function isCalendarDay(day) {
    if (!DAY.test(day)) return false;
    var p = day.split('-').map(Number);
    var d = new Date(p[0], p[1] - 1, p[2]);
    return d.getFullYear() === p[0] && d.getMonth() === p[1] - 1 && d.getDate() === p[2];
  }

  function validate(filters) {
    var problems = [];
    ['from', 'to'].forEach(function (k) {
      byId(INPUTS[k]).removeAttribute('aria-invalid');
      if (filters[k] && !isCalendarDay(filters[k])) {
        problems.push((k === 'from' ? '\u201cFrom\u201d' : '\u201cTo\u201d') + ' is not a date');
        byId(INPUTS[k]).setAttribute('aria-invalid', 'true');
      }
    });
    if (!problems.length && filters.from && filters.to && filters.from > filters.to) {
      problems.push('\u201cFrom\u201d is after \u201cTo\u201d');
      byId('f-to').setAttribute('aria-invalid', 'true');
    }
    return problems;
  }

  function applyFilters(filters, focusTable) {
    var problems = validate(filters);
    if (problems.length) {
      showError(problems.join('; ') + '.');
      return;
    }
    state.filters = filters;
    state.offset = 0;
    writeForm();
    writeUrl();
    load(focusTable);
  }

  /* -------------------------------------------------------------- events */

  function cell(label, content, className) {
    var td = el('td', { className: className || '', attrs: { 'data-label': label } });
    if (content === undefined || content === null || content === '' ||
        (Array.isArray(content) && content.length === 0)) {
      td.appendChild(el('span', { className: 'hb-muted', text: '\u2014' }));
    } else {
      td.appendChild(el('div', { className: 'hb-cell' }, content));
    }
    return td;
  }

  // A link that narrows the list to events with this value (a real link: it opens in a new tab too).
  function filterLink(key, value, text, className, title) {
    var filters = {};
    filters[key] = value;
    var link = el('a', {
      className: className || '', text: text,
      attrs: { href: pageUrl(filters, 0), title: title || 'Show only these events' }
    });
    link.addEventListener('click', function (event) {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      var next = {};
      Object.keys(state.filters).forEach(function (k) { next[k] = state.filters[k]; });
      next[key] = value;
      applyFilters(next, true);
    });
    return link;
  }

  // Local date and time (to the second) on two lines; the UTC value is in the tooltip.
  function timeNode(iso, id) {
    var d = new Date(iso);
    var idText = id ? ' \u00b7 #' + id : '';
    if (!iso || isNaN(d.getTime())) {
      return [el('span', { text: str(iso) || '\u2014' }), id ? el('span', { className: 'hb-subtext', text: '#' + id }) : null];
    }
    return [
      el('time', {
        text: d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' }),
        attrs: { datetime: str(iso), title: str(iso) + ' (UTC)' }
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
      var items = value.slice(0, 6).map(function (v) { return shortValue(v, depth + 1); });
      if (value.length > 6) items.push('+' + (value.length - 6) + ' more');
      return items.join(', ');
    }
    if (typeof value === 'object') {
      // {id, name, status} of a site and the like: the most telling fields first.
      var keys = ['name', 'id', 'status', 'site', 'count'].filter(function (k) { return value[k] !== undefined && value[k] !== null && value[k] !== ''; });
      if (keys.length && depth > 0) return keys.map(function (k) { return shortValue(value[k], depth + 1); }).join(' ');
      var all = Object.keys(value);
      return all.slice(0, 4).map(function (k) { return k + ': ' + shortValue(value[k], depth + 1); }).join(', ') +
        (all.length > 4 ? ', \u2026' : '');
    }
    return String(value);
  }

  function clip(text, max) {
    return text.length > max ? text.slice(0, max - 1) + '\u2026' : text;
  }

  function detailNode(detail) {
    if (detail === undefined || detail === null || detail === '') return '';
    if (!isObject(detail)) return el('span', { className: 'hb-audit-detail', text: clip(shortValue(detail, 0), 200) });
    var keys = Object.keys(detail);
    if (!keys.length) return '';
    var request = typeof detail.method === 'string' && typeof detail.path === 'string';
    // Empty values say nothing in the one-line summary (the full JSON keeps them).
    var parts = keys.filter(function (k) {
      var v = detail[k];
      if (request && (k === 'method' || k === 'path')) return false;
      return !(v === '' || v === null || v === undefined || (Array.isArray(v) && v.length === 0));
    }).map(function (k) { return k + ': ' + shortValue(detail[k], 1); });
    if (request) parts.unshift(detail.method + ' ' + detail.path);
    if (!parts.length) parts = ['(no detail)'];
    var summary = clip(parts.join(' \u00b7 '), 220);
    var full;
    try { full = JSON.stringify(detail, null, 2); } catch (e) { full = summary; }
    return el('details', { className: 'hb-audit-detail' }, [
      el('summary', { text: summary }),
      el('pre', { className: 'hb-pre', text: full })
    ]);
  }

  function actorNode(actor) {
    actor = isObject(actor) ? actor : { name: str(actor) };
    var name = str(actor.name);
    var kind = str(actor.kind);
    var meta = [];
    if (actor.role && !(kind === 'peer' && actor.role === 'peer')) meta.push(HB.roleLabel(str(actor.role)));
    if (kind && (kind !== 'user' || !actor.role)) meta.push(KIND_LABELS[kind] || kind);
    return [
      name ? filterLink('actor', name, name, 'hb-strong', 'Show only events by this actor')
        : el('span', { className: 'hb-muted', text: 'unknown' }),
      meta.length ? el('span', { className: 'hb-subtext', text: meta.join(' \u00b7 ') }) : null
    ];
  }

  function actionNode(action) {
    action = str(action);
    if (!action) return '';
    var label = ACTION_LABELS[action];
    return [
      filterLink('action', action, label || action, '', 'Show only these actions'),
      label ? el('span', { className: 'hb-subtext hb-id', text: action }) : null
    ];
  }

  function outcomeNode(outcome) {
    outcome = str(outcome);
    var info = OUTCOMES[outcome] || { label: outcome || 'Unknown', tone: 'error' };
    return el('span', { className: 'hb-badge hb-badge-' + info.tone, text: info.label });
  }

  function eventRow(ev) {
    var id = str(ev.id);
    var patient = str(ev.patient_id);
    var study = str(ev.study_uid);
    var outcome = str(ev.outcome);
    var classes = [];
    if (outcome && outcome !== 'success') classes.push('hb-row-' + (OUTCOMES[outcome] ? OUTCOMES[outcome].tone : 'error'));
    if (brokenId !== null && id === brokenId) classes.push('hb-row-broken');
    return el('tr', { className: classes.join(' '), attrs: { 'data-event-id': id || null } }, [
      cell('Time', timeNode(ev.time, id), 'hb-nowrap'),
      cell('Actor', actorNode(ev.actor)),
      cell('Source IP', str(ev.source_ip) ? el('span', { className: 'hb-id', text: str(ev.source_ip) }) : ''),
      cell('Action', actionNode(ev.action)),
      cell('Outcome', outcome ? outcomeNode(outcome) : ''),
      cell('Patient', patient ? [
        filterLink('patient_id', patient, patient, 'hb-id', 'Show only this patient\u2019s events'),
        PATIENT_ID.test(patient) ? el('a', {
          className: 'hb-subtext hb-no-print', text: 'Open record',
          attrs: { href: '/bridge/app/patients.html?id=' + encodeURIComponent(patient) }
        }) : null
      ] : ''),
      cell('Study', study ? filterLink('study_uid', study, study, 'hb-id hb-uid', 'Show only this study\u2019s events') : ''),
      cell('Detail', detailNode(ev.detail), 'hb-audit-detail-cell')
    ]);
  }

  function describeFilters(filters) {
    var parts = [];
    if (filters.patient_id) parts.push('patient ' + filters.patient_id);
    if (filters.study_uid) parts.push('study ' + filters.study_uid);
    if (filters.actor) parts.push('actor ' + filters.actor);
    if (filters.action) parts.push(ACTION_LABELS[filters.action] || filters.action);
    if (filters.from && filters.to) parts.push(filters.from + ' to ' + filters.to);
    else if (filters.from) parts.push('from ' + filters.from);
    else if (filters.to) parts.push('until ' + filters.to);
    return parts.join(', ');
  }

  function render(answer) {
    var events = Array.isArray(answer.events) ? answer.events.filter(isObject) : [];
    var total = typeof answer.total === 'number' ? answer.total : events.length;
    var offset = typeof answer.offset === 'number' ? answer.offset : state.offset;
    var body = HB.clear(byId('events-body'));
    events.forEach(function (ev) { body.appendChild(eventRow(ev)); });
    var filtered = Object.keys(state.filters).length > 0;
    byId('events-wrap').hidden = events.length === 0;
    byId('events-empty').hidden = events.length !== 0;
    byId('events-empty').textContent = filtered ? 'No event matches these filters.'
      : (offset > 0 ? 'No more events.' : 'The audit trail is empty.');
    var what = describeFilters(state.filters);
    byId('events-summary').textContent = events.length === 0 ? (what ? 'Filtered: ' + what : '') :
      'Showing ' + HB.formatNumber(offset + 1) + '\u2013' + HB.formatNumber(offset + events.length) + ' of ' +
      HB.formatNumber(total) + (total === 1 ? ' event' : ' events') + ', newest first' + (what ? ' \u00b7 ' + what : '');
    byId('pager').hidden = total <= PAGE_SIZE && offset === 0;
    byId('page-prev').disabled = offset <= 0;
    byId('page-next').disabled = offset + events.length >= total;
    byId('page-info').textContent = 'Page ' + HB.formatNumber(Math.floor(offset / PAGE_SIZE) + 1) + ' of ' +
      HB.formatNumber(Math.max(1, Math.ceil(total / PAGE_SIZE)));
  }

  async function load(focusTable) {
    var mine = ++seq;
    showError('');
    updateExportLinks();
    byId('events-summary').textContent = 'Loading\u2026';
    var query = serverQuery(state.filters);
    query.limit = PAGE_SIZE;
    query.offset = state.offset;
    try {
      var answer = await HB.api('/bridge/audit', { query: query, timeoutMs: 60000 });
      if (mine !== seq) return;
      render(isObject(answer) ? answer : {});
      if (focusTable) byId('events-heading').scrollIntoView({ block: 'nearest' });
    } catch (e) {
      if (mine !== seq) return;
      byId('events-summary').textContent = '';
      byId('events-wrap').hidden = true;
      byId('pager').hidden = true;
      if (e.status === 403) {
        showError('Only administrators can read the audit trail.');
        // Nothing here is usable for this role: leave just the explanation.
        ['filter-form', 'chain', 'events-summary'].forEach(function (id) { byId(id).hidden = true; });
        document.querySelectorAll('.hb-page-head .hb-actions').forEach(function (node) { node.hidden = true; });
      } else if (e.status === 400) {
        showError('The filters were not accepted: ' + (e.detail || e.message));
        var bad = /from|to|patient|study|actor|action/.exec(e.detail || '');
        if (bad) {
          var key = { from: 'from', to: 'to', patient: 'patient_id', study: 'study_uid', actor: 'actor', action: 'action' }[bad[0]];
          if (INPUTS[key]) byId(INPUTS[key]).setAttribute('aria-invalid', 'true');
        }
      } else {
        showError('Could not load the audit trail: ' + HB.describeError(e));
      }
    }
  }

  /* ---------------------------------------------------------- chain check */

  async function verify() {
    var box = byId('chain');
    var text = byId('chain-text');
    var again = byId('chain-again');
    box.className = 'hb-alert hb-alert-info hb-chain';
    text.textContent = 'Checking the audit chain\u2026';
    again.hidden = true;
    try {
      var r = await HB.api('/bridge/audit/verify', { timeoutMs: 120000 });
      r = isObject(r) ? r : {};
      var checked = typeof r.events_checked === 'number' ? HB.formatNumber(r.events_checked) : '?';
      HB.clear(text);
      if (r.ok === true) {
        box.className = 'hb-alert hb-alert-ok hb-chain';
        brokenId = null;
        HB.appendChildren(text, [el('strong', { text: 'Audit trail intact: ' + checked + ' events verified.' })]);
        if (isObject(r.checkpoint) && r.checkpoint.last_pruned_id !== undefined && r.checkpoint.last_pruned_id !== null) {
          text.appendChild(document.createTextNode(' Events up to #' + str(r.checkpoint.last_pruned_id) +
            ' were removed under the retention policy; the chain continues from their checkpoint.'));
        }
      } else {
        box.className = 'hb-alert hb-alert-error hb-chain';
        var broken = isObject(r.first_broken) ? r.first_broken : {};
        brokenId = broken.id !== undefined && broken.id !== null ? str(broken.id) : null;
        HB.appendChildren(text, [
          el('strong', { text: 'Broken at event ' + (brokenId !== null ? brokenId : '?') + ': ' + (str(broken.reason) || 'unknown reason') + '.' }),
          ' ' + checked + ' events checked. Events from this one on may have been altered or removed outside HospitalBridge; keep a copy of the database and tell IT.'
        ]);
        document.querySelectorAll('#events-body tr').forEach(function (tr) {
          tr.classList.toggle('hb-row-broken', brokenId !== null && tr.getAttribute('data-event-id') === brokenId);
        });
      }
    } catch (e) {
      box.className = 'hb-alert hb-alert-warn hb-chain';
      text.textContent = e.status === 403 ? 'Only administrators can check the audit chain.'
        : 'Could not check the audit chain: ' + HB.describeError(e);
    }
    again.hidden = false;
  }

  /* ---------------------------------------------------------------- start */

  function start() {
    readUrl();
    writeForm();
    byId('filter-form').addEventListener('submit', function (event) {
      event.preventDefault();
      applyFilters(readForm(), false);
    });
    byId('filter-clear').addEventListener('click', function () {
      showError('');
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

    HB.initLayout({ page: 'audit', title: 'Audit trail' }).catch(function (e) {
      showError('Could not load the session: ' + HB.describeError(e));
    });
    var problems = validate(state.filters);
    if (problems.length) {
      showError(problems.join('; ') + '.');
      byId('events-summary').textContent = '';
    } else {
      load(false);
    }
    verify();
  }

  start();
})();
