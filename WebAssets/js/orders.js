/*
 * Orders: the day's schedule per modality and station (refreshing by itself), making,
 * changing, checking in and cancelling orders, and the reconciliation list (studies that
 * arrived without their order, attached here to the right one). Written with the view
 * library (Preact + htm, lib/view.js): one component rendered into #orders-app.
 *   GET  /bridge/orders?date=&modality=&station=&q=&limit=     the day's orders
 *   POST /bridge/orders, PUT /bridge/orders/{id}               make, change
 *   POST /bridge/orders/{id}/arrive | /cancel {reason}
 *   GET  /bridge/orders/reconciliation                         studies without order, candidates
 *   POST /bridge/orders/reconciliation/{study}/attach {order_id} | /dismiss {reason}
 * Server and DICOM strings are Preact text children (text nodes, never HTML).
 */
import { api, describeError } from '../lib/api.js';
import { byId } from '../lib/dom.js';
import { formatClock, formatDateTime, formatPatientName, localDay } from '../lib/format.js';
import { t, has } from '../lib/i18n.js';
import { initLayout } from '../lib/layout.js';
import { startPolling, refreshStatusText } from '../lib/polling.js';
import { str, objects } from '../lib/text.js';
import { html, render, useState, useEffect, useRef } from '../lib/view.js';

const REFRESH_MS = 15000;
const WRITERS = ['admin', 'technician', 'reception'];
const RECONCILERS = ['admin', 'technician'];
const STATUS_TONES = {
  scheduled: 'info', arrived: 'warn', 'in-progress': 'warn', completed: 'ok', reported: 'ok',
  cancelled: 'error', discontinued: 'error'
};
const EMPTY = {
  patient_id: '', name: '', birth_date: '', sex: '', national_id: '', accession_number: '', modality: '',
  station_aet: '', station_name: '', location: '', scheduled_start: '', priority: 'routine',
  procedure_description: '', procedure_code: '', referring_physician: '', reason: '', notes: ''
};

function statusLabel(status) {
  return has('orders.status.' + status) ? t('orders.status.' + status) : str(status);
}

function Badge({ status }) {
  return html`<span class=${'hb-badge hb-badge-' + (STATUS_TONES[status] || 'info')}>${statusLabel(status)}</span>`;
}

function Cell({ label, className, children }) {
  return html`<td class=${className || ''} data-label=${label}><div class="hb-cell">${children}</div></td>`;
}

function timeOf(order) {
  const start = str(order.scheduled_start);
  return start.length >= 16 ? formatClock(start.slice(11, 16)) : '';
}

// The order's fields as the form edits them.
function formOf(order) {
  if (!order) return Object.assign({}, EMPTY, { scheduled_start: localDay() + 'T' + new Date().toTimeString().slice(0, 5) });
  const patient = order.patient || {};
  const procedure = order.procedure || {};
  return Object.assign({}, EMPTY, {
    patient_id: str(patient.patient_id), name: str(patient.name), birth_date: str(patient.birth_date),
    sex: str(patient.sex), national_id: str(patient.national_id), accession_number: str(order.accession_number),
    modality: str(order.modality), station_aet: str(order.station_aet), station_name: str(order.station_name),
    location: str(order.location), scheduled_start: str(order.scheduled_start).slice(0, 16),
    priority: str(order.priority) || 'routine', procedure_description: str(procedure.description),
    procedure_code: str(procedure.code), referring_physician: str(order.referring_physician),
    reason: str(order.reason), notes: str(order.notes)
  });
}

function bodyOf(values, editing) {
  const body = {
    modality: values.modality, station_aet: values.station_aet, station_name: values.station_name,
    location: values.location, scheduled_start: values.scheduled_start, priority: values.priority,
    procedure: { description: values.procedure_description, code: values.procedure_code },
    referring_physician: values.referring_physician, reason: values.reason, notes: values.notes
  };
  if (editing) {
    body.patient = { name: values.name, birth_date: values.birth_date, sex: values.sex };
  } else {
    body.patient = { patient_id: values.patient_id, name: values.name, birth_date: values.birth_date, sex: values.sex,
      national_id: values.national_id };
    if (values.accession_number) body.accession_number = values.accession_number;
  }
  return body;
}

function OrderForm({ order, onCancel, onSaved }) {
  const editing = !!order;
  const [values, setValues] = useState(function () { return formOf(order); });
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const first = useRef(null);
  useEffect(function () { if (first.current) first.current.focus(); }, []);

  function set(field) {
    return function (event) {
      const value = event.currentTarget.value;
      setValues(function (v) { return Object.assign({}, v, { [field]: value }); });
    };
  }
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      const saved = editing
        ? await api('/bridge/orders/' + encodeURIComponent(order.id), { method: 'PUT', body: bodyOf(values, true) })
        : await api('/bridge/orders', { method: 'POST', body: bodyOf(values, false) });
      onSaved(saved, (saved.warnings || []).join(' '));
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  }
  function field(name, label, attrs) {
    attrs = attrs || {};
    return html`<div class=${'hb-field' + (attrs.span ? ' hb-span-2' : '')}>
      <label for=${'order-' + name}>${label}</label>
      ${attrs.options
        ? html`<select id=${'order-' + name} value=${values[name]} onChange=${set(name)}>
            ${attrs.options.map(function (o) { return html`<option value=${o[0]}>${o[1]}</option>`; })}</select>`
        : html`<input id=${'order-' + name} ref=${attrs.first ? first : null} type=${attrs.type || 'text'}
            value=${values[name]} onInput=${set(name)} disabled=${!!attrs.disabled} required=${!!attrs.required}
            maxlength=${attrs.max || 64} autocomplete="off" spellcheck="false" />`}
    </div>`;
  }
  return html`<form id="order-form" class="hb-card hb-form" onSubmit=${submit} noValidate>
    <h2>${editing ? t('orders.form.editTitle', { accession: str(order.accession_number) }) : t('orders.form.newTitle')}</h2>
    <div class="hb-form-grid">
      ${field('patient_id', t('orders.form.patientId'), { first: !editing, disabled: editing, required: true })}
      ${field('name', t('orders.form.name'), { required: true, max: 320 })}
      ${field('birth_date', t('orders.form.birthDate'), { type: 'date' })}
      ${field('sex', t('orders.form.sex'), { options: [['', '\u2014'], ['F', t('sex.female')], ['M', t('sex.male')], ['O', t('sex.other')]] })}
      ${editing ? null : field('national_id', t('orders.form.nationalId'))}
      ${editing ? null : field('accession_number', t('orders.form.accession'), { max: 16 })}
      ${field('modality', t('orders.form.modality'), { required: true, max: 16, first: editing })}
      ${field('station_aet', t('orders.form.stationAet'), { max: 16 })}
      ${field('station_name', t('orders.form.stationName'), { max: 16 })}
      ${field('location', t('orders.form.location'), { max: 16 })}
      ${field('scheduled_start', t('orders.form.start'), { type: 'datetime-local', required: true })}
      ${field('priority', t('orders.form.priority'), { options: [['routine', t('orders.priority.routine')], ['urgent', t('orders.priority.urgent')], ['stat', t('orders.priority.stat')]] })}
      ${field('procedure_description', t('orders.form.procedure'))}
      ${field('procedure_code', t('orders.form.procedureCode'), { max: 16 })}
      ${field('referring_physician', t('orders.form.referrer'))}
      ${field('reason', t('orders.form.reason'))}
      ${field('notes', t('orders.form.notes'), { span: true, max: 1000 })}
    </div>
    <div id="order-form-error" class="hb-alert hb-alert-error" role="alert" hidden=${!error}>${error}</div>
    <div class="hb-form-actions">
      <button type="button" class="hb-button" onClick=${onCancel}>${t('common.cancel')}</button>
      <button id="order-save" type="submit" class="hb-button hb-button-primary" disabled=${busy}>
        ${editing ? t('orders.form.save') : t('orders.form.create')}</button>
    </div>
  </form>`;
}

function OrderRow({ order, canWrite, onEdit, onChanged, onError }) {
  const [cancelling, setCancelling] = useState(false);
  const [reason, setReason] = useState('');
  const patient = order.patient || {};
  const status = str(order.status);
  const open = status === 'scheduled' || status === 'arrived';

  async function act(path, body) {
    try {
      await api('/bridge/orders/' + encodeURIComponent(order.id) + path, { method: 'POST', body: body || {} });
      setCancelling(false);
      onChanged();
    } catch (e) {
      onError(describeError(e));
    }
  }
  return html`<tr data-order=${str(order.id)}>
    <${Cell} label=${t('orders.col.time')} className="hb-nowrap">${timeOf(order)}<//>
    <${Cell} label=${t('orders.col.patient')}>
      <span class="hb-strong hb-patient-name">${formatPatientName(str(patient.name)) || t('common.noName')}</span>
      <span class="hb-subtext hb-id">${str(patient.patient_id)}</span>
    <//>
    <${Cell} label=${t('orders.col.procedure')}>
      ${str((order.procedure || {}).description)}
      <span class="hb-subtext">${str(order.modality)}${order.station_aet ? ' \u00b7 ' + str(order.station_aet) : ''}</span>
    <//>
    <${Cell} label=${t('orders.col.accession')} className="hb-id">${str(order.accession_number)}<//>
    <${Cell} label=${t('orders.col.priority')}>${t('orders.priority.' + (order.priority === 'stat' || order.priority === 'urgent' ? order.priority : 'routine'))}<//>
    <${Cell} label=${t('orders.col.status')}><${Badge} status=${status} /><//>
    <${Cell} label=${t('orders.col.actions')} className="hb-nowrap">
      ${canWrite ? html`<div class="hb-actions hb-no-print">
        ${status === 'scheduled' ? html`<button type="button" class="hb-button hb-button-small hb-button-primary hb-arrive"
            onClick=${function () { act('/arrive'); }}>${t('orders.arrived')}</button>` : null}
        ${open ? html`<button type="button" class="hb-button hb-button-small" onClick=${function () { onEdit(order); }}>${t('orders.edit')}</button>` : null}
        ${open || status === 'in-progress' ? html`<button type="button" class="hb-button hb-button-small"
            onClick=${function () { setCancelling(!cancelling); }}>${t('orders.cancel')}</button>` : null}
      </div>
      ${cancelling ? html`<form class="hb-inline-form" onSubmit=${function (e) { e.preventDefault(); act('/cancel', { reason: reason }); }}>
        <label class="hb-visually-hidden" for=${'reason-' + order.id}>${t('orders.cancelReason')}</label>
        <input id=${'reason-' + order.id} type="text" maxlength="500" required placeholder=${t('orders.cancelReason')}
          value=${reason} onInput=${function (e) { setReason(e.currentTarget.value); }} />
        <button type="submit" class="hb-button hb-button-small hb-button-danger" disabled=${!reason.trim()}>${t('orders.confirmCancel')}</button>
      </form>` : null}` : null}
    <//>
  </tr>`;
}

// One table per modality and station, in time order.
function Schedule({ orders, canWrite, onEdit, onChanged, onError }) {
  const groups = [];
  orders.forEach(function (order) {
    const key = str(order.modality) + ' \u00b7 ' + (str(order.station_aet) || t('orders.anyStation'));
    let group = groups.find(function (g) { return g.key === key; });
    if (!group) groups.push(group = { key: key, orders: [] });
    group.orders.push(order);
  });
  if (!groups.length) return html`<p id="orders-empty" class="hb-empty">${t('orders.none')}</p>`;
  return groups.map(function (group) {
    return html`<section class="hb-section" aria-label=${group.key}>
      <h3 class="hb-group-title">${group.key} <span class="hb-muted">${t('orders.count', { count: group.orders.length })}</span></h3>
      <div class="hb-table-wrap"><table class="hb-table hb-table-cards">
        <thead><tr>
          <th scope="col">${t('orders.col.time')}</th><th scope="col">${t('orders.col.patient')}</th>
          <th scope="col">${t('orders.col.procedure')}</th><th scope="col">${t('orders.col.accession')}</th>
          <th scope="col">${t('orders.col.priority')}</th><th scope="col">${t('orders.col.status')}</th>
          <th scope="col"><span class="hb-visually-hidden">${t('orders.col.actions')}</span></th>
        </tr></thead>
        <tbody>${group.orders.map(function (order) {
          return html`<${OrderRow} key=${order.id} order=${order} canWrite=${canWrite} onEdit=${onEdit}
            onChanged=${onChanged} onError=${onError} />`;
        })}</tbody>
      </table></div>
    </section>`;
  });
}

function ReconcileRow({ entry, canReconcile, onChanged, onError }) {
  const candidates = objects(entry.candidates);
  const [choice, setChoice] = useState(candidates.length ? str(candidates[0].id) : '');
  const [reason, setReason] = useState('');
  const attaching = objects(entry.attachments).some(function (a) { return a.state !== 'done' && a.state !== 'failed'; });
  const failed = objects(entry.attachments).filter(function (a) { return a.state === 'failed'; }).pop();
  const study = encodeURIComponent(str(entry.orthanc_id));

  async function attach() {
    try {
      await api('/bridge/orders/reconciliation/' + study + '/attach', { method: 'POST', body: { order_id: Number(choice) } });
      onChanged();
    } catch (e) { onError(describeError(e)); }
  }
  async function dismiss() {
    try {
      await api('/bridge/orders/reconciliation/' + study + '/dismiss', { method: 'POST', body: { reason: reason } });
      onChanged();
    } catch (e) { onError(describeError(e)); }
  }
  return html`<tr data-study=${str(entry.orthanc_id)}>
    <${Cell} label=${t('orders.rec.study')}>
      <span class="hb-strong hb-patient-name">${formatPatientName(str(entry.patient_name)) || t('common.noName')}</span>
      <span class="hb-subtext hb-id">${str(entry.patient_id)}</span>
      <span class="hb-subtext">${str(entry.study_date)} ${(entry.modalities || []).join(', ')} ${str(entry.description)}</span>
    <//>
    <${Cell} label=${t('orders.rec.accession')} className="hb-id">${str(entry.accession_number)}<//>
    <${Cell} label=${t('orders.rec.why')}>${has('orders.rec.kind.' + entry.kind) ? t('orders.rec.kind.' + entry.kind) : str(entry.kind)}
      ${failed ? html`<span class="hb-subtext hb-error-text">${str(failed.error)}</span>` : null}<//>
    <${Cell} label=${t('orders.rec.actions')}>
      ${attaching ? html`<span class="hb-badge hb-badge-warn">${t('orders.rec.attaching')}</span>`
        : canReconcile ? html`<div class="hb-actions">
          <label class="hb-visually-hidden" for=${'cand-' + study}>${t('orders.rec.order')}</label>
          <select id=${'cand-' + study} value=${choice} onChange=${function (e) { setChoice(e.currentTarget.value); }}>
            ${candidates.length ? null : html`<option value="">${t('orders.rec.noCandidate')}</option>`}
            ${candidates.map(function (o) {
              return html`<option value=${str(o.id)}>${str(o.accession_number)} \u00b7 ${formatPatientName(str((o.patient || {}).name))} \u00b7 ${str(o.modality)} ${timeOf(o)}</option>`;
            })}
          </select>
          <button type="button" class="hb-button hb-button-small hb-button-primary hb-nowrap" disabled=${!choice} onClick=${attach}>${t('orders.rec.attach')}</button>
          <input type="text" maxlength="500" placeholder=${t('orders.rec.reason')} aria-label=${t('orders.rec.reason')}
            value=${reason} onInput=${function (e) { setReason(e.currentTarget.value); }} />
          <button type="button" class="hb-button hb-button-small hb-nowrap" disabled=${!reason.trim()} onClick=${dismiss}>${t('orders.rec.dismiss')}</button>
        </div>` : html`<span class="hb-muted">${t('orders.rec.technicianOnly')}</span>`}
    <//>
  </tr>`;
}

function OrdersPage({ role }) {
  const [day, setDay] = useState(localDay());
  const [query, setQuery] = useState('');
  const [orders, setOrders] = useState(null);
  const [mismatches, setMismatches] = useState([]);
  const [editing, setEditing] = useState(null);   // null: no form; {}: new; an order: edit
  const [notice, setNotice] = useState('');
  const [error, setError] = useState('');
  const [status, setStatus] = useState(t('common.loading'));
  const poller = useRef(null);
  const current = useRef({ day: day, query: query });
  current.current = { day: day, query: query };
  const canWrite = WRITERS.indexOf(role) !== -1;
  const canReconcile = RECONCILERS.indexOf(role) !== -1;

  async function load() {
    try {
      const q = { date: current.current.day, limit: 1000 };
      if (current.current.query) q.q = current.current.query;
      const [list, rec] = await Promise.all([api('/bridge/orders', { query: q }), api('/bridge/orders/reconciliation')]);
      setOrders(objects(list.orders));
      setMismatches(objects(rec.studies));
      setStatus(refreshStatusText(false, new Date(), REFRESH_MS));
    } catch (e) {
      setError(describeError(e));
    }
  }
  useEffect(function () {
    poller.current = startPolling(load, { intervalMs: REFRESH_MS, onPause: function (p) { if (p) setStatus(refreshStatusText(true)); } });
  }, []);
  useEffect(function () { if (poller.current) poller.current.refreshNow(); }, [day, query]);

  function changed(message) {
    setError('');
    setNotice(message || '');
    if (poller.current) poller.current.refreshNow();
  }
  return html`
    <div class="hb-page-head">
      <h1>${t('orders.title')}</h1>
      <p id="refresh-status" class="hb-muted" aria-live="polite">${status}</p>
    </div>
    <div id="page-error" class="hb-alert hb-alert-error" role="alert" hidden=${!error}>${error}</div>
    <div id="page-notice" class="hb-alert hb-alert-ok" role="status" hidden=${!notice}>${notice}</div>
    <form class="hb-search-form" role="search" onSubmit=${function (e) { e.preventDefault(); }}>
      <div class="hb-field">
        <label for="orders-day">${t('orders.day')}</label>
        <input id="orders-day" type="date" value=${day} onChange=${function (e) { setDay(e.currentTarget.value || localDay()); }} />
      </div>
      <div class="hb-field hb-field-grow">
        <label for="orders-q">${t('orders.search')}</label>
        <input id="orders-q" type="search" maxlength="256" value=${query} autocomplete="off" spellcheck="false"
          onChange=${function (e) { setQuery(e.currentTarget.value.trim()); }} />
      </div>
      ${canWrite ? html`<div class="hb-form-actions">
        <button id="order-new" type="button" class="hb-button hb-button-primary" onClick=${function () { setEditing({}); }}>${t('orders.new')}</button>
      </div>` : null}
    </form>
    ${editing ? html`<${OrderForm} order=${editing.id ? editing : null} onCancel=${function () { setEditing(null); }}
        onSaved=${function (saved, warning) {
          setEditing(null);
          changed(t('orders.saved', { accession: str(saved.accession_number) }) + (warning ? ' ' + warning : ''));
        }} />` : null}
    <section class="hb-section" aria-labelledby="schedule-heading">
      <h2 id="schedule-heading">${t('orders.schedule')}</h2>
      ${orders === null ? html`<p class="hb-muted">${t('common.loading')}</p>`
        : html`<${Schedule} orders=${orders} canWrite=${canWrite} onEdit=${setEditing}
            onChanged=${function () { changed(''); }} onError=${setError} />`}
    </section>
    <section class="hb-section" aria-labelledby="reconcile-heading">
      <h2 id="reconcile-heading">${t('orders.rec.title')}</h2>
      <p class="hb-muted">${t('orders.rec.intro')}</p>
      ${mismatches.length === 0 ? html`<p id="reconcile-empty" class="hb-empty">${t('orders.rec.none')}</p>`
        : html`<div class="hb-table-wrap"><table id="reconcile-table" class="hb-table hb-table-cards">
          <thead><tr>
            <th scope="col">${t('orders.rec.study')}</th><th scope="col">${t('orders.rec.accession')}</th>
            <th scope="col">${t('orders.rec.why')}</th><th scope="col">${t('orders.rec.actions')}</th>
          </tr></thead>
          <tbody>${mismatches.map(function (entry) {
            return html`<${ReconcileRow} key=${entry.orthanc_id} entry=${entry} canReconcile=${canReconcile}
              onChanged=${function () { changed(t('orders.rec.done')); }} onError=${setError} />`;
          })}</tbody>
        </table></div>`}
    </section>`;
}

initLayout({ page: 'orders', title: t('orders.title') }).then(function (system) {
  render(html`<${OrdersPage} role=${str((system.user || {}).role)} />`, byId('orders-app'));
}, function (e) {
  render(html`<div class="hb-alert hb-alert-error" role="alert">${t('common.sessionFailed', { error: describeError(e) })}</div>`,
    byId('orders-app'));
});
