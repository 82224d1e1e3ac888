/*
 * Router: per destination, what is queued, waiting, retrying, failed and delivered today, and
 * the age of the oldest pending delivery; the deliveries themselves with filters, the proof of
 * each (instances received, sent, confirmed, remote id, attempts, last error); administrators
 * and technicians resend one delivery or all failed ones, or cancel one. Refreshed every 10 s.
 *   GET  /bridge/system                          (layout, the caller's role)
 *   GET  /bridge/router/summary
 *   GET  /bridge/router/deliveries?state=&destination=&q=&limit=
 *   GET  /bridge/router/not-sent                 (studies withheld by the patient's consent)
 *   POST /bridge/router/deliveries/{id}/resend | /cancel
 *   POST /bridge/router/resend-failed            {destination}
 * Server strings are Preact text children (text nodes, never HTML).
 */
import { api, describeError } from '../lib/api.js';
import { byId } from '../lib/dom.js';
import { formatDateTime, formatNumber, formatPatientName } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { initLayout } from '../lib/layout.js';
import { startPolling } from '../lib/polling.js';
import { str, isObject } from '../lib/text.js';
import { confirmDialog } from '../lib/ui.js';
import { html, render, useState, useEffect, useCallback, useRef } from '../lib/view.js';

const REFRESH_MS = 10000;
const STATES = ['queued', 'sending', 'waiting', 'retrying', 'failed', 'delivered'];
const TONES = { queued: '', sending: 'info', waiting: 'warn', retrying: 'warn', failed: 'error', delivered: 'ok' };
const OPERATORS = ['admin', 'technician'];

function age(seconds) {
  if (seconds === null || seconds === undefined || seconds === '') return '';
  const s = Number(seconds);
  if (!isFinite(s) || s < 0) return '';
  if (s < 90) return t('router.age.seconds', { count: Math.round(s) });
  if (s < 5400) return t('router.age.minutes', { count: Math.round(s / 60) });
  if (s < 172800) return t('router.age.hours', { count: Math.round(s / 3600) });
  return t('router.age.days', { count: Math.round(s / 86400) });
}

function Badge({ state }) {
  const tone = TONES[state] === undefined ? '' : TONES[state];
  return html`<span class=${'hb-badge hb-badge-small' + (tone ? ' hb-badge-' + tone : '')}>${t('router.state.' + state)}</span>`;
}

function Cell({ label, className, children }) {
  const empty = children === undefined || children === null || children === '';
  return html`<td class=${className || ''} data-label=${label}>
    ${empty ? html`<span class="hb-muted">\u2014</span>` : html`<div class="hb-cell">${children}</div>`}
  </td>`;
}

function Destinations({ summary, canAct, onResendFailed }) {
  const list = Array.isArray(summary.destinations) ? summary.destinations.filter(isObject) : [];
  if (!list.length) return html`<p class="hb-empty">${t('router.noDestinations')}</p>`;
  return html`<div class="hb-table-wrap"><table class="hb-table hb-table-cards" id="router-destinations">
    <caption class="hb-visually-hidden">${t('router.destinationsCaption')}</caption>
    <thead><tr>
      <th scope="col">${t('router.col.destination')}</th>
      <th scope="col" class="hb-num">${t('router.state.queued')}</th>
      <th scope="col" class="hb-num">${t('router.state.waiting')}</th>
      <th scope="col" class="hb-num">${t('router.state.retrying')}</th>
      <th scope="col" class="hb-num">${t('router.state.failed')}</th>
      <th scope="col" class="hb-num">${t('router.deliveredToday')}</th>
      <th scope="col">${t('router.oldestPending')}</th>
      ${canAct ? html`<th scope="col"><span class="hb-visually-hidden">${t('router.col.actions')}</span></th>` : null}
    </tr></thead>
    <tbody>${list.map(function (d) {
      return html`<tr key=${str(d.name)}>
        <${Cell} label=${t('router.col.destination')}>
          <span class="hb-strong">${str(d.name)}</span>
          <span class="hb-subtext">${str(d.type)}${d.target ? ' \u2192 ' + str(d.target) : ''}${d.url ? ' \u2192 ' + str(d.url) : ''}</span>
        <//>
        <${Cell} label=${t('router.state.queued')} className="hb-num">${formatNumber(d.queued)}<//>
        <${Cell} label=${t('router.state.waiting')} className="hb-num">${formatNumber(d.waiting)}<//>
        <${Cell} label=${t('router.state.retrying')} className="hb-num">${formatNumber(d.retrying)}<//>
        <${Cell} label=${t('router.state.failed')} className="hb-num">${formatNumber(d.failed)}<//>
        <${Cell} label=${t('router.deliveredToday')} className="hb-num">${formatNumber(d.delivered_today)}<//>
        <${Cell} label=${t('router.oldestPending')}>${age(d.oldest_pending_seconds)}<//>
        ${canAct ? html`<td class="hb-no-print">${Number(d.failed) > 0 ? html`<button type="button"
            class="hb-button hb-button-small" onClick=${function () { onResendFailed(str(d.name)); }}>
            ${t('router.resendFailed')}</button>` : null}</td>` : null}
      </tr>`;
    })}</tbody>
  </table></div>`;
}

function DeliveryRow({ d, canAct, onAction }) {
  const canResend = ['failed', 'delivered', 'waiting', 'retrying'].indexOf(d.state) !== -1;
  const canCancel = ['queued', 'waiting', 'retrying'].indexOf(d.state) !== -1;
  return html`<tr>
    <${Cell} label=${t('router.col.study')}>
      <span class="hb-strong">${formatPatientName(str(d.patient_name)) || t('common.noName')}</span>
      <span class="hb-subtext">${d.accession_number ? t('router.accession', { accession: str(d.accession_number) }) : t('router.noAccession')}</span>
      <span class="hb-subtext hb-id">${str(d.study_uid)}</span>
    <//>
    <${Cell} label=${t('router.col.destination')}>${str(d.destination)}
      ${d.trigger && d.trigger !== 'study' ? html`<span class="hb-subtext">${str(d.trigger)}</span>` : null}<//>
    <${Cell} label=${t('router.col.state')}><${Badge} state=${str(d.state)} />
      ${(d.state === 'retrying' || d.state === 'waiting') && d.next_attempt_at ? html`<span class="hb-subtext">${t('router.nextAttempt', { at: formatDateTime(d.next_attempt_at) })}</span>` : null}<//>
    <${Cell} label=${t('router.col.instances')}>${t('router.instances', {
      sent: formatNumber(d.instances_sent), received: formatNumber(d.instances_received), confirmed: formatNumber(d.instances_confirmed) })}<//>
    <${Cell} label=${t('router.col.attempts')} className="hb-num">${formatNumber(d.attempts)}<//>
    <${Cell} label=${t('router.col.remote')}>${d.remote_id ? html`<span class="hb-id">${str(d.remote_id)}</span>` : null}
      ${d.remote_url ? html`<span class="hb-subtext hb-id">${str(d.remote_url)}</span>` : null}<//>
    <${Cell} label=${t('router.col.reason')}>${str(d.reason)}<//>
    <${Cell} label=${t('router.col.updated')} className="hb-nowrap">${formatDateTime(d.updated_at)}<//>
    ${canAct ? html`<td class="hb-no-print"><div class="hb-actions hb-actions-stack">
      ${canResend ? html`<button type="button" class="hb-button hb-button-small"
          onClick=${function () { onAction(d, 'resend'); }}>${t('router.resend')}</button>` : null}
      ${canCancel ? html`<button type="button" class="hb-button hb-button-small"
          onClick=${function () { onAction(d, 'cancel'); }}>${t('router.cancel')}</button>` : null}
    </div></td>` : null}
  </tr>`;
}

function RouterPage() {
  const [role, setRole] = useState('');
  const [summary, setSummary] = useState(null);
  const [deliveries, setDeliveries] = useState(null);
  const [notSent, setNotSent] = useState([]);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [filters, setFilters] = useState({ state: '', destination: '', q: '' });
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const canAct = OPERATORS.indexOf(role) !== -1;

  const refresh = useCallback(async function () {
    const f = filtersRef.current;
    try {
      const query = { limit: '200' };
      if (f.state) query.state = f.state;
      if (f.destination) query.destination = f.destination;
      if (f.q) query.q = f.q;
      const [s, list, withheld] = await Promise.all([api('/bridge/router/summary'),
        api('/bridge/router/deliveries', { query: query }), api('/bridge/router/not-sent', { query: { limit: '50' } })]);
      setSummary(isObject(s) ? s : {});
      setNotSent(isObject(withheld) && Array.isArray(withheld.not_sent) ? withheld.not_sent.filter(isObject) : []);
      setDeliveries(isObject(list) && Array.isArray(list.deliveries) ? list.deliveries.filter(isObject) : []);
      setError('');
    } catch (e) {
      setError(t('router.loadFailed', { error: describeError(e) }));
    }
  }, []);

  useEffect(function () {
    initLayout({ page: 'router', title: t('nav.router') }).then(function (system) {
      setRole(str(system && system.user && system.user.role));
    }).catch(function () {});
    startPolling(refresh, { intervalMs: REFRESH_MS });
  }, []);
  useEffect(function () { refresh(); }, [filters]);

  async function act(d, what) {
    const ok = await confirmDialog({
      title: t(what === 'resend' ? 'router.resendTitle' : 'router.cancelTitle'),
      body: t(what === 'resend' ? 'router.resendConfirm' : 'router.cancelConfirm', { destination: str(d.destination) }),
      confirmLabel: t(what === 'resend' ? 'router.resend' : 'router.cancel'),
      danger: what === 'cancel'
    });
    if (!ok) return;
    try {
      await api('/bridge/router/deliveries/' + encodeURIComponent(String(d.id)) + '/' + what, { method: 'POST' });
      setNotice(t(what === 'resend' ? 'router.resent' : 'router.cancelled'));
    } catch (e) {
      setError(describeError(e));
    }
    refresh();
  }

  async function routeAgain(studyUid) {
    try {
      const answer = await api('/bridge/router/studies/' + encodeURIComponent(studyUid) + '/route', { method: 'POST' });
      setNotice(t('router.routedAgain', { count: Number(answer && answer.queued) || 0 }));
    } catch (e) {
      setError(describeError(e));
    }
    refresh();
  }

  async function resendFailed(destination) {
    try {
      const answer = await api('/bridge/router/resend-failed', { method: 'POST', body: { destination: destination } });
      setNotice(t('router.resentMany', { count: Number(answer && answer.resent) || 0 }));
    } catch (e) {
      setError(describeError(e));
    }
    refresh();
  }

  const destinations = summary && Array.isArray(summary.destinations) ? summary.destinations.filter(isObject) : [];
  const backlog = summary && isObject(summary.backlog) ? summary.backlog : {};
  return html`
    <div id="router-error" class="hb-alert hb-alert-error" role="alert" hidden=${!error}>${error}</div>
    <div id="router-notice" class="hb-alert hb-alert-ok" role="status" hidden=${!notice}>${notice}</div>
    <section class="hb-section" aria-labelledby="router-dest-heading">
      <div class="hb-section-head">
        <h2 id="router-dest-heading">${t('router.destinations')}</h2>
        <p class="hb-muted" id="router-backlog">${summary ? t('router.backlog', {
          pending: formatNumber((Number(backlog.queued) || 0) + (Number(backlog.sending) || 0) + (Number(backlog.waiting) || 0) + (Number(backlog.retrying) || 0)),
          failed: formatNumber(backlog.failed) }) : t('common.loading')}</p>
      </div>
      ${summary ? html`<${Destinations} summary=${summary} canAct=${canAct} onResendFailed=${resendFailed} />` : null}
    </section>
    <section class="hb-section" aria-labelledby="router-deliveries-heading">
      <div class="hb-section-head"><h2 id="router-deliveries-heading">${t('router.deliveries')}</h2></div>
      <form class="hb-search-form hb-no-print" onSubmit=${function (e) { e.preventDefault(); }}>
        <div class="hb-field"><label for="router-state">${t('router.col.state')}</label>
          <select id="router-state" value=${filters.state} onChange=${function (e) { setFilters(Object.assign({}, filters, { state: e.target.value })); }}>
            <option value="">${t('router.any')}</option>
            ${STATES.map(function (s) { return html`<option value=${s}>${t('router.state.' + s)}</option>`; })}
          </select></div>
        <div class="hb-field"><label for="router-destination">${t('router.col.destination')}</label>
          <select id="router-destination" value=${filters.destination} onChange=${function (e) { setFilters(Object.assign({}, filters, { destination: e.target.value })); }}>
            <option value="">${t('router.any')}</option>
            ${destinations.map(function (d) { return html`<option value=${str(d.name)}>${str(d.name)}</option>`; })}
          </select></div>
        <div class="hb-field hb-field-grow"><label for="router-q">${t('router.search')}</label>
          <input id="router-q" type="search" maxlength="64" autocomplete="off" value=${filters.q}
                 onChange=${function (e) { setFilters(Object.assign({}, filters, { q: e.target.value.trim() })); }} /></div>
      </form>
      ${deliveries === null ? html`<p class="hb-muted">${t('common.loading')}</p>`
        : deliveries.length === 0 ? html`<p class="hb-empty" id="router-empty">${t('router.noDeliveries')}</p>`
        : html`<div class="hb-table-wrap"><table class="hb-table hb-table-cards" id="router-deliveries">
          <caption class="hb-visually-hidden">${t('router.deliveriesCaption')}</caption>
          <thead><tr>
            <th scope="col">${t('router.col.study')}</th>
            <th scope="col">${t('router.col.destination')}</th>
            <th scope="col">${t('router.col.state')}</th>
            <th scope="col">${t('router.col.instances')}</th>
            <th scope="col" class="hb-num">${t('router.col.attempts')}</th>
            <th scope="col">${t('router.col.remote')}</th>
            <th scope="col">${t('router.col.reason')}</th>
            <th scope="col">${t('router.col.updated')}</th>
            ${canAct ? html`<th scope="col"><span class="hb-visually-hidden">${t('router.col.actions')}</span></th>` : null}
          </tr></thead>
          <tbody id="router-deliveries-body">${deliveries.map(function (d) {
            return html`<${DeliveryRow} key=${String(d.id)} d=${d} canAct=${canAct} onAction=${act} />`;
          })}</tbody>
        </table></div>`}
    </section>
    ${notSent.length ? html`<section class="hb-section" aria-labelledby="router-not-sent-heading">
      <div class="hb-section-head"><h2 id="router-not-sent-heading">${t('router.notSent')}</h2>
        <p class="hb-muted">${t('router.notSentHelp')}</p></div>
      <div class="hb-table-wrap"><table class="hb-table hb-table-cards" id="router-not-sent">
        <caption class="hb-visually-hidden">${t('router.notSent')}</caption>
        <thead><tr>
          <th scope="col">${t('router.col.study')}</th>
          <th scope="col">${t('router.col.destination')}</th>
          <th scope="col">${t('router.col.rule')}</th>
          <th scope="col">${t('router.col.why')}</th>
          <th scope="col">${t('router.col.updated')}</th>
          ${canAct ? html`<th scope="col"><span class="hb-visually-hidden">${t('router.col.actions')}</span></th>` : null}
        </tr></thead>
        <tbody>${notSent.map(function (n) {
          return html`<tr key=${str(n.study_uid) + '/' + str(n.rule) + '/' + str(n.destination)}>
            <${Cell} label=${t('router.col.study')}><span class="hb-id">${str(n.study_uid)}</span><//>
            <${Cell} label=${t('router.col.destination')}>${str(n.destination)}<//>
            <${Cell} label=${t('router.col.rule')}>${str(n.rule)}<//>
            <${Cell} label=${t('router.col.why')}>${str(n.reason)}<//>
            <${Cell} label=${t('router.col.updated')} className="hb-nowrap">${formatDateTime(n.at)}<//>
            ${canAct ? html`<td class="hb-no-print"><button type="button" class="hb-button hb-button-small"
                onClick=${function () { routeAgain(str(n.study_uid)); }}>${t('router.routeAgain')}</button></td>` : null}
          </tr>`;
        })}</tbody>
      </table></div>
    </section>` : null}`;
}

render(html`<${RouterPage} />`, byId('router-app'));
