/*
 * Reading queue: every study waiting for a report, the oldest overdue STAT first, with filters
 * (status, modality, priority, mine, overdue, site). Radiologists claim and release studies and
 * open the report; administrators and lead radiologists assign. The list updates itself without
 * reload by long polling on the reports' change number: GET /bridge/reports/changes?since=N&wait=25
 * answers as soon as a study arrives or a colleague claims one. A browser that reconnects asks
 * with its last number, so it misses nothing; when the server says too many pages wait already
 * (503, busy) the page polls every few seconds instead.
 *   GET  /bridge/reports/queue?...          the list and its change number
 *   GET  /bridge/reports/changes?since&wait the live updates
 *   POST /bridge/reports/{id}/claim|release|assign
 *   GET  /bridge/reports/radiologists       whom a study can be assigned to (administrators, leads)
 * Server strings are Preact text children (never HTML).
 */
import { api, describeError } from '../lib/api.js';
import { byId } from '../lib/dom.js';
import { formatPatientName, formatDateTime } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { initLayout } from '../lib/layout.js';
import { str, objects } from '../lib/text.js';
import { html, render, useState, useEffect, useRef, useCallback } from '../lib/view.js';
import { viewerAvailable, viewerUrl } from '../lib/viewer.js';

const WAIT_SECONDS = 25;
const FALLBACK_MS = 15000;
const FILTER_KEYS = ['status', 'modality', 'priority', 'mine', 'overdue', 'site'];

function readFilters() {
  const params = new URLSearchParams(window.location.search);
  const filters = { status: 'open', modality: '', priority: '', mine: '', overdue: '', site: '' };
  FILTER_KEYS.forEach(function (key) { if (params.get(key)) filters[key] = params.get(key); });
  return filters;
}

function writeFilters(filters) {
  const params = new URLSearchParams();
  FILTER_KEYS.forEach(function (key) {
    if (filters[key] && !(key === 'status' && filters[key] === 'open')) params.set(key, filters[key]);
  });
  const search = params.toString();
  window.history.replaceState(null, '', window.location.pathname + (search ? '?' + search : ''));
}

function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

function PriorityBadge({ priority }) {
  const p = str(priority) || 'routine';
  const tone = p === 'stat' ? 'error' : (p === 'urgent' ? 'warn' : 'info');
  return html`<span class=${'hb-badge hb-badge-small hb-badge-' + tone + ' hb-priority-' + p}>${t('reading.priority.' + p)}</span>`;
}

function StatusBadge({ status }) {
  const s = str(status);
  const tone = s === 'final' || s === 'amended' ? 'ok' : (s === 'preliminary' ? 'warn' : '');
  return html`<span class=${'hb-badge hb-badge-small' + (tone ? ' hb-badge-' + tone : '')} data-status=${s}>${t('reporting.status.' + s)}</span>`;
}

function Row({ report, me, canAssign, onAction, busy, viewer, assigning, radiologists, onAssigning }) {
  const study = report.study || {};
  const patient = report.patient || {};
  const mine = report.assigned_to && report.assigned_to === me;
  const modalities = Array.isArray(study.modalities) ? study.modalities.map(str).join(', ') : '';
  const open = '/bridge/app/report.html?id=' + encodeURIComponent(report.id);
  const finished = report.status === 'final' || report.status === 'amended';
  return html`<tr class=${(report.overdue ? 'hb-row-overdue ' : '') + (mine ? 'hb-row-mine' : '')} data-report=${String(report.id)}>
    <td data-label=${t('reading.col.priority')}><${PriorityBadge} priority=${report.priority} />
      ${report.overdue ? html` <span class="hb-badge hb-badge-small hb-badge-error hb-overdue">${t('reading.overdue')}</span>` : null}</td>
    <td data-label=${t('reading.col.due')} class="hb-nowrap"><time datetime=${str(report.due_at)}>${formatDateTime(report.due_at)}</time></td>
    <td data-label=${t('reading.col.patient')}><span class="hb-strong">${formatPatientName(patient.name) || t('common.noName')}</span>
      <span class="hb-subtext hb-id">${str(patient.id)}</span></td>
    <td data-label=${t('reading.col.study')}><span>${str(study.description) || modalities}</span>
      <span class="hb-subtext">${modalities}${study.date ? ' \u00b7 ' + str(study.date) : ''}${study.accession_number ? ' \u00b7 ' + str(study.accession_number) : ''}</span></td>
    <td data-label=${t('reading.col.status')}><${StatusBadge} status=${report.status} />
      ${report.critical ? html` <span class="hb-badge hb-badge-small hb-badge-error">${t('reporting.critical')}</span>` : null}</td>
    <td data-label=${t('reading.col.reader')} class="hb-reader">${str(report.assigned_to) || html`<span class="hb-muted">${t('reading.nobody')}</span>`}</td>
    <td data-label=${t('reading.col.actions')} class="hb-nowrap"><div class="hb-actions">
      ${!report.assigned_to && !finished ? html`<button type="button" class="hb-button hb-button-small hb-button-primary hb-claim" disabled=${busy}
          onClick=${function () { onAction(report, 'claim'); }}>${t('reading.claim')}</button>` : null}
      ${mine && !finished ? html`<button type="button" class="hb-button hb-button-small hb-release" disabled=${busy}
          onClick=${function () { onAction(report, 'release'); }}>${t('reading.release')}</button>` : null}
      ${canAssign && !finished && !assigning ? html`<button type="button" class="hb-button hb-button-small hb-assign" disabled=${busy}
          onClick=${function () { onAssigning(report.id); }}>${t('reading.assign')}</button>` : null}
      ${canAssign && !finished && assigning ? html`<form class="hb-assign-form" onSubmit=${function (e) {
          e.preventDefault();
          onAction(report, 'assign', e.target.elements.user.value);
        }}>
        <label class="hb-visually-hidden" for=${'assign-' + report.id}>${t('reading.assignTo')}</label>
        <select id=${'assign-' + report.id} name="user" class="hb-assign-user">${radiologists.map(function (name) {
          return html`<option value=${name} selected=${name === report.assigned_to}>${name}</option>`;
        })}</select>
        <button type="submit" class="hb-button hb-button-small hb-button-primary hb-assign-submit" disabled=${busy || !radiologists.length}>${t('reading.assign')}</button>
        <button type="button" class="hb-button hb-button-small" onClick=${function () { onAssigning(0); }}>${t('common.cancel')}</button>
      </form>` : null}
      <a class="hb-button hb-button-small hb-open" href=${open}>${t('reading.open')}</a>
      ${viewer && viewerUrl(study.uid) ? html`<a class="hb-button hb-button-small hb-viewer-link" href=${viewerUrl(study.uid)}
          target="_blank" rel="noopener" title=${t('viewer.openTitle')}>${t('viewer.open')}</a>` : null}
    </div></td>
  </tr>`;
}

function Filters({ filters, onChange }) {
  function set(key, value) { onChange(Object.assign({}, filters, { [key]: value })); }
  return html`<form class="hb-search-form hb-queue-filters" onSubmit=${function (e) { e.preventDefault(); }}>
    <div class="hb-field"><label for="f-status">${t('reading.filter.status')}</label>
      <select id="f-status" value=${filters.status} onChange=${function (e) { set('status', e.target.value); }}>
        <option value="open">${t('reading.filter.open')}</option>
        <option value="unread">${t('reporting.status.unread')}</option>
        <option value="draft">${t('reporting.status.draft')}</option>
        <option value="preliminary">${t('reporting.status.preliminary')}</option>
        <option value="final">${t('reading.filter.final')}</option>
        <option value="all">${t('reading.filter.all')}</option>
      </select></div>
    <div class="hb-field"><label for="f-priority">${t('reading.filter.priority')}</label>
      <select id="f-priority" value=${filters.priority} onChange=${function (e) { set('priority', e.target.value); }}>
        <option value="">${t('reading.filter.any')}</option>
        <option value="stat">${t('reading.priority.stat')}</option>
        <option value="urgent">${t('reading.priority.urgent')}</option>
        <option value="routine">${t('reading.priority.routine')}</option>
      </select></div>
    <div class="hb-field"><label for="f-modality">${t('reading.filter.modality')}</label>
      <input id="f-modality" type="text" maxlength="16" size="6" autocomplete="off" value=${filters.modality}
             onChange=${function (e) { set('modality', e.target.value.trim().toUpperCase()); }} /></div>
    <div class="hb-field"><label for="f-site">${t('reading.filter.site')}</label>
      <input id="f-site" type="text" maxlength="32" size="8" autocomplete="off" value=${filters.site}
             onChange=${function (e) { set('site', e.target.value.trim()); }} /></div>
    <div class="hb-field hb-checks">
      <label><input id="f-mine" type="checkbox" checked=${filters.mine === '1'}
             onChange=${function (e) { set('mine', e.target.checked ? '1' : ''); }} /> ${t('reading.filter.mine')}</label>
      <label><input id="f-overdue" type="checkbox" checked=${filters.overdue === '1'}
             onChange=${function (e) { set('overdue', e.target.checked ? '1' : ''); }} /> ${t('reading.filter.overdue')}</label>
    </div>
  </form>`;
}

function Queue({ me, canAssign, viewer }) {
  const [filters, setFilters] = useState(readFilters);
  const [page, setPage] = useState(null);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [live, setLive] = useState({ mode: 'starting', at: null });
  const [busy, setBusy] = useState(false);
  const [assigning, setAssigning] = useState(0);
  const [radiologists, setRadiologists] = useState([]);
  const filtersRef = useRef(filters);
  const seqRef = useRef(-1);

  const load = useCallback(async function () {
    const f = filtersRef.current;
    const query = { limit: 200 };
    FILTER_KEYS.forEach(function (key) { if (f[key]) query[key] = f[key]; });
    try {
      const answer = await api('/bridge/reports/queue', { query: query });
      if (seqRef.current < 0 || answer.seq > seqRef.current) seqRef.current = answer.seq;
      setPage(answer);
      setError('');
    } catch (e) {
      setError(t('reading.loadFailed', { error: describeError(e) }));
    }
  }, []);

  useEffect(function () { filtersRef.current = filters; writeFilters(filters); load(); }, [filters]);

  // The live loop: wait for a change after the last number seen, then reload the list.
  useEffect(function () {
    let stopped = false;
    (async function loop() {
      let failures = 0;
      while (!stopped) {
        if (seqRef.current < 0 || document.hidden) { await sleep(500); continue; }
        try {
          const answer = await api('/bridge/reports/changes', {
            query: { since: seqRef.current, wait: WAIT_SECONDS }, timeoutMs: (WAIT_SECONDS + 15) * 1000
          });
          failures = 0;
          setLive({ mode: 'live', at: new Date() });
          if (answer.changes && answer.changes.length) {
            seqRef.current = answer.seq;
            await load();
          }
        } catch (e) {
          if (e.status === 503) {
            // Too many pages wait already: poll instead, and try live again later.
            setLive({ mode: 'polling', at: new Date() });
            const retry = Number((e.body && e.body.retry_after_seconds) || 0) * 1000;
            await sleep(Math.max(retry, FALLBACK_MS));
            await load();
          } else {
            failures++;
            setLive({ mode: 'offline', at: new Date() });
            await sleep(Math.min(30000, 1000 * Math.pow(2, failures)));
          }
        }
      }
    })();
    return function () { stopped = true; };
  }, []);

  useEffect(function () {
    if (!canAssign) return;
    api('/bridge/reports/radiologists').then(function (answer) {
      setRadiologists(Array.isArray(answer && answer.radiologists) ? answer.radiologists.map(str) : []);
    }, function (e) { setError(describeError(e)); });
  }, []);

  async function act(report, action, user) {
    setBusy(true);
    setNotice('');
    try {
      if (action === 'assign') {
        await api('/bridge/reports/' + report.id + '/assign', { method: 'POST', body: { user: str(user) } });
        setAssigning(0);
      } else {
        await api('/bridge/reports/' + report.id + '/' + action, { method: 'POST' });
      }
      setNotice(t('reading.done.' + action, { patient: formatPatientName((report.patient || {}).name) }));
      await load();
    } catch (e) {
      setError(describeError(e));
    }
    setBusy(false);
  }

  const reports = page ? objects(page.reports) : [];
  const liveText = live.mode === 'live' ? t('reading.live', { time: live.at ? live.at.toLocaleTimeString() : '' })
    : (live.mode === 'polling' ? t('reading.polling') : (live.mode === 'offline' ? t('reading.offline') : t('common.loading')));
  return html`<div>
    <div class="hb-page-head">
      <h1>${t('reading.title')}</h1>
      <a class="hb-button hb-button-small" id="templates-link" href="/bridge/app/report-templates.html">${t('reading.templates')}</a>
      <p id="live-status" class=${'hb-muted hb-live hb-live-' + live.mode} aria-live="polite">${liveText}</p>
    </div>
    <div id="page-error" class="hb-alert hb-alert-error" role="alert" hidden=${!error}>${error}</div>
    <div id="page-notice" class="hb-alert hb-alert-ok" role="status" hidden=${!notice}>${notice}</div>
    <${Filters} filters=${filters} onChange=${setFilters} />
    <p id="queue-summary" class="hb-muted">${page ? t('reading.summary', { count: page.total }) : ''}</p>
    ${page && reports.length === 0 ? html`<p class="hb-empty" id="queue-empty">${t('reading.empty')}</p>` : null}
    ${reports.length ? html`<div class="hb-table-wrap"><table class="hb-table hb-table-cards" id="queue-table">
      <caption class="hb-visually-hidden">${t('reading.caption')}</caption>
      <thead><tr>
        <th scope="col">${t('reading.col.priority')}</th><th scope="col">${t('reading.col.due')}</th>
        <th scope="col">${t('reading.col.patient')}</th><th scope="col">${t('reading.col.study')}</th>
        <th scope="col">${t('reading.col.status')}</th><th scope="col">${t('reading.col.reader')}</th>
        <th scope="col"><span class="hb-visually-hidden">${t('reading.col.actions')}</span></th>
      </tr></thead>
      <tbody id="queue-body">${reports.map(function (r) {
        return html`<${Row} key=${r.id} report=${r} me=${me} canAssign=${canAssign} onAction=${act} busy=${busy} viewer=${viewer}
          assigning=${assigning === r.id} radiologists=${radiologists} onAssigning=${setAssigning} />`;
      })}</tbody>
    </table></div>` : null}
  </div>`;
}

async function main() {
  let system = null;
  try {
    system = await initLayout({ page: 'reading', title: t('reading.title') });
  } catch (e) {
    render(html`<p class="hb-alert hb-alert-error">${t('common.sessionFailed', { error: describeError(e) })}</p>`, byId('reading-app'));
    return;
  }
  const user = (system && system.user) || {};
  const reports = (system && system.reports) || {};
  const canAssign = user.role === 'admin' || (Array.isArray(reports.lead_radiologists) && reports.lead_radiologists.indexOf(user.username) !== -1);
  const viewer = await viewerAvailable();
  render(html`<${Queue} me=${str(user.username)} canAssign=${canAssign} viewer=${viewer} />`, byId('reading-app'));
}

main();
