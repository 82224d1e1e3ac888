/*
 * One report: the study and patient, the draft written from its template (autosaved), sign-off
 * with the radiologist's password again, the critical-finding record, amendments, every version
 * (each readable, with its PDF and FHIR), and the patient's prior studies here and, where the
 * patient's consent allows, at peer sites.
 *   GET  /bridge/reports/{id}                       the report as this page shows it
 *   GET  /bridge/report-templates                   the templates to start from
 *   POST /bridge/reports {study, template}          start (or take over) the draft
 *   PUT  /bridge/reports/{id} {template, sections, critical, addendum}   autosave
 *   POST /bridge/reports/{id}/claim|release|sign|amend|critical
 *   GET  /bridge/federation/query?national_id=      prior studies at peer sites
 * Every value from the server is a text child (findings can hold "<b>" and stay text).
 */
import { api, describeError } from '../lib/api.js';
import { byId } from '../lib/dom.js';
import { formatPatientName, formatDateTime, formatSex } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { initLayout } from '../lib/layout.js';
import { str, objects, isObject } from '../lib/text.js';
import { html, render, useState, useEffect, useRef } from '../lib/view.js';
import { viewerAvailable, viewerUrl } from '../lib/viewer.js';

const AUTOSAVE_MS = 1200;

function reportId() {
  const id = new URLSearchParams(window.location.search).get('id') || '';
  return /^\d{1,18}$/.test(id) ? id : '';
}

function Facts({ report }) {
  const study = report.study || {};
  const patient = report.patient || {};
  const modalities = Array.isArray(study.modalities) ? study.modalities.map(str).join(', ') : '';
  return html`<dl class="hb-dl hb-report-facts-grid">
    <dt>${t('reporting.patient')}</dt><dd><span class="hb-strong" id="patient-name">${formatPatientName(patient.name) || t('common.noName')}</span>
      <span class="hb-subtext hb-id">${str(patient.id)} \u00b7 ${str(patient.birth_date)} \u00b7 ${formatSex(patient.sex)}</span></dd>
    <dt>${t('reporting.study')}</dt><dd><span id="study-description">${str(study.description) || modalities}</span>
      <span class="hb-subtext">${modalities} \u00b7 ${str(study.date)} \u00b7 ${str(study.accession_number)}</span></dd>
    <dt>${t('reporting.priorityDue')}</dt><dd>${t('reading.priority.' + (str(report.priority) || 'routine')) + ' \u00b7 '}<time datetime=${str(report.due_at)}>${formatDateTime(report.due_at)}</time>
      ${report.overdue ? html` <span class="hb-badge hb-badge-small hb-badge-error">${t('reading.overdue')}</span>` : null}</dd>
    <dt>${t('reporting.statusLabel')}</dt><dd><span id="report-status" data-status=${str(report.status)}>${t('reporting.status.' + str(report.status))}</span>
      ${report.assigned_to ? html` \u00b7 ${t('reporting.readBy', { user: str(report.assigned_to) })}` : null}</dd>
    ${report.referring_physician ? html`<dt>${t('reporting.referring')}</dt><dd>${formatPatientName(report.referring_physician)}</dd>` : null}
    ${report.reason ? html`<dt>${t('reporting.reason')}</dt><dd>${str(report.reason)}</dd>` : null}
  </dl>`;
}

function SectionField({ section, value, readOnly, onChange }) {
  const id = 'section-' + section.id;
  const label = html`<label for=${id}>${str(section.label)}${section.required ? html` <span class="hb-required" aria-hidden="true">*</span>` : null}</label>`;
  if (readOnly) {
    const text = Array.isArray(value) ? value.map(str).join(', ') : str(value);
    return html`<div class="hb-report-section" data-section=${section.id}>
      <h3 class="hb-report-section-label">${str(section.label)}</h3>
      <p class="hb-report-text" id=${id}>${text || '\u2014'}</p></div>`;
  }
  if (section.type === 'choice') {
    return html`<div class="hb-field">${label}
      <select id=${id} value=${str(value)} onChange=${function (e) { onChange(section.id, e.target.value); }}>
        <option value="">${t('reporting.choose')}</option>
        ${objects([]).concat(section.options || []).map(function (o) { return html`<option value=${str(o)}>${str(o)}</option>`; })}
      </select></div>`;
  }
  if (section.type === 'multichoice') {
    const chosen = Array.isArray(value) ? value.map(str) : [];
    return html`<fieldset class="hb-field hb-checks" id=${id}><legend>${str(section.label)}</legend>
      ${(section.options || []).map(function (o) {
        const option = str(o);
        return html`<label><input type="checkbox" checked=${chosen.indexOf(option) !== -1} onChange=${function (e) {
          const next = chosen.filter(function (c) { return c !== option; });
          if (e.target.checked) next.push(option);
          onChange(section.id, (section.options || []).map(str).filter(function (c) { return next.indexOf(c) !== -1; }));
        }} /> ${option}</label>`;
      })}</fieldset>`;
  }
  if (section.type === 'line') {
    return html`<div class="hb-field">${label}<input id=${id} type="text" maxlength="2000" value=${str(value)}
      onInput=${function (e) { onChange(section.id, e.target.value); }} /></div>`;
  }
  return html`<div class="hb-field">${label}<textarea id=${id} rows=${section.id === 'findings' ? 8 : 3} maxlength="20000"
    onInput=${function (e) { onChange(section.id, e.target.value); }}>${str(value)}</textarea></div>`;
}

function Versions({ report }) {
  const versions = objects(report.versions);
  if (!versions.length) return null;
  return html`<section class="hb-section" aria-labelledby="versions-heading">
    <h2 id="versions-heading">${t('reporting.versions')}</h2>
    <div class="hb-table-wrap"><table class="hb-table hb-table-cards" id="versions-table"><thead><tr>
      <th scope="col">${t('reporting.version')}</th><th scope="col">${t('reporting.statusLabel')}</th>
      <th scope="col">${t('reporting.signedBy')}</th><th scope="col">${t('reporting.hash')}</th><th scope="col"></th>
    </tr></thead><tbody>${versions.map(function (v) {
      const base = '/bridge/reports/' + report.id;
      return html`<tr data-version=${String(v.version)}>
        <td data-label=${t('reporting.version')}>${String(v.version)} <span class="hb-subtext">${t('reporting.kind.' + str(v.kind))}</span></td>
        <td data-label=${t('reporting.statusLabel')}>${t('reporting.status.' + str(v.status))}</td>
        <td data-label=${t('reporting.signedBy')}>${v.signed ? str(v.signed_by) + ' (' + str(v.signed_role) + '), ' + formatDateTime(v.signed_at) : '\u2014'}</td>
        <td data-label=${t('reporting.hash')}><span class="hb-id hb-hash">${str(v.content_hash) || '\u2014'}</span></td>
        <td class="hb-nowrap">${v.signed ? html`<div class="hb-actions">
          <a class="hb-button hb-button-small" href=${'/bridge/app/report.html?id=' + report.id + '&version=' + v.version}>${t('reporting.read')}</a>
          <a class="hb-button hb-button-small" href=${base + '/pdf?version=' + v.version} target="_blank" rel="noopener">PDF</a>
          <a class="hb-button hb-button-small" href=${base + '/fhir?version=' + v.version} target="_blank" rel="noopener">FHIR</a>
        </div>` : null}</td></tr>`;
    })}</tbody></table></div></section>`;
}

function Priors({ report }) {
  const [peers, setPeers] = useState(null);
  const national = str((report.patient || {}).national_id);
  useEffect(function () {
    if (!national) return;
    api('/bridge/federation/query', { query: { national_id: national } }).then(function (answer) {
      const local = (report.study || {}).uid;
      setPeers(objects(answer && answer.studies).filter(function (s) { return !s.local && str(s.study_uid || s.uid) !== local; }));
    }, function () { setPeers([]); });
  }, [national]);
  const local = objects(report.priors);
  return html`<section class="hb-section" aria-labelledby="priors-heading">
    <h2 id="priors-heading">${t('reporting.priors')}</h2>
    ${local.length === 0 && (!peers || peers.length === 0) ? html`<p class="hb-muted" id="priors-empty">${t('reporting.noPriors')}</p>` : null}
    <ul class="hb-priors" id="priors-list">${local.map(function (p) {
      return html`<li><span class="hb-strong">${str(p.date)}</span> ${str(p.description)} <span class="hb-subtext">${(p.modalities || []).map(str).join(', ')}</span>
        ${p.report ? html` <a href=${'/bridge/app/report.html?id=' + p.report.id}>${t('reporting.status.' + str(p.report.status))}</a>` : null}</li>`;
    })}${(peers || []).map(function (p) {
      return html`<li class="hb-prior-peer"><span class="hb-strong">${str(p.study_date || p.date)}</span> ${str(p.study_description || p.description)}
        <span class="hb-subtext">${t('reporting.atSite', { site: str(p.site_name || p.site_id || p.site) })}</span></li>`;
    })}</ul></section>`;
}

function SignDialog({ onClose, onSigned, report, preliminary }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const ref = useRef(null);
  useEffect(function () { if (ref.current && ref.current.showModal && !ref.current.open) ref.current.showModal(); }, []);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const answer = await api('/bridge/reports/' + report.id + '/sign', { method: 'POST', body: { password: password }, auth: false, timeoutMs: 60000 });
      onSigned(answer);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }
  return html`<dialog class="hb-dialog" id="sign-dialog" ref=${ref} aria-labelledby="sign-title" onCancel=${onClose}>
    <form onSubmit=${submit}>
      <h2 class="hb-dialog-title" id="sign-title">${preliminary ? t('reporting.signPreliminary') : t('reporting.signTitle')}</h2>
      <div class="hb-dialog-body">
        <p>${t('reporting.signExplain')}</p>
        <div class="hb-field"><label for="sign-password">${t('reporting.password')}</label>
          <input id="sign-password" type="password" autocomplete="current-password" required value=${password}
                 onInput=${function (e) { setPassword(e.target.value); }} /></div>
        <p id="sign-error" class="hb-form-message hb-form-message-error" role="alert">${error}</p>
      </div>
      <div class="hb-dialog-actions">
        <button type="button" class="hb-button" onClick=${onClose}>${t('common.cancel')}</button>
        <button type="submit" class="hb-button hb-button-primary" id="sign-submit" disabled=${busy || !password}>${t('reporting.sign')}</button>
      </div>
    </form></dialog>`;
}

function CriticalForm({ report, onDone }) {
  const [to, setTo] = useState('');
  const [method, setMethod] = useState('phone');
  const [error, setError] = useState('');
  async function submit(e) {
    e.preventDefault();
    try {
      onDone(await api('/bridge/reports/' + report.id + '/critical', { method: 'POST', body: { to: to, method: method } }));
      setTo('');
    } catch (err) { setError(describeError(err)); }
  }
  const told = objects(report.critical_communications);
  return html`<div class="hb-card hb-critical" id="critical-box">
    <p class="hb-strong">${t('reporting.criticalTitle')}</p>
    ${told.length ? html`<ul id="critical-list">${told.map(function (c) {
      return html`<li>${t('reporting.criticalTold', { to: str(c.to), at: formatDateTime(c.at), method: str(c.method), by: str(c.recorded_by) })}</li>`;
    })}</ul>` : html`<p class="hb-text-error">${t('reporting.criticalMissing')}</p>`}
    ${report.may && report.may.record_critical ? html`<form class="hb-form-grid" onSubmit=${submit}>
      <div class="hb-field"><label for="critical-to">${t('reporting.criticalTo')}</label>
        <input id="critical-to" type="text" maxlength="200" required value=${to} onInput=${function (e) { setTo(e.target.value); }} /></div>
      <div class="hb-field"><label for="critical-method">${t('reporting.criticalMethod')}</label>
        <select id="critical-method" value=${method} onChange=${function (e) { setMethod(e.target.value); }}>
          <option value="phone">${t('reporting.method.phone')}</option><option value="in person">${t('reporting.method.person')}</option>
          <option value="message">${t('reporting.method.message')}</option></select></div>
      <div class="hb-form-actions"><button type="submit" class="hb-button" id="critical-submit">${t('reporting.criticalRecord')}</button></div>
      <p class="hb-form-message hb-form-message-error" role="alert">${error}</p>
    </form>` : null}</div>`;
}

function Editor({ initial, templates, viewer }) {
  const [report, setReport] = useState(initial);
  const [values, setValues] = useState(function () { return (initial.version && initial.version.content && initial.version.content.sections) || {}; });
  const [critical, setCritical] = useState(!!(initial.version && initial.version.content && initial.version.content.critical));
  const [addendum, setAddendum] = useState(str(initial.version && initial.version.content && initial.version.content.addendum));
  const [templateKey, setTemplateKey] = useState(function () {
    if (initial.template) return initial.template.key;
    const modalities = ((initial.study || {}).modalities || []).map(str);
    const match = templates.filter(function (tp) { return (tp.modalities || []).some(function (m) { return modalities.indexOf(m) !== -1; }); })[0];
    return match ? match.key : (templates[0] ? templates[0].key : '');
  });
  const [saveState, setSaveState] = useState('');
  const [error, setError] = useState('');
  const [signing, setSigning] = useState(false);
  const [notice, setNotice] = useState('');
  const [amending, setAmending] = useState(false);
  const [amendReason, setAmendReason] = useState('');
  const timer = useRef(null);
  const pending = useRef(null);

  const version = report.version;
  const editing = !!(report.may && report.may.edit && version && !version.signed);
  const template = report.template || templates.filter(function (tp) { return tp.key === templateKey; })[0] || null;

  // Just signed: the PDF is stored with the images by the server's worker a
  // moment later; asked again every second until the version names it.
  const waitingForPdf = !!(version && version.signed && !version.pdf_instance);
  useEffect(function () {
    if (!waitingForPdf) return undefined;
    let tries = 0;
    let stopped = false;
    const timerId = setInterval(async function () {
      tries += 1;
      if (tries > 120) { clearInterval(timerId); return; }
      try {
        const answer = await api('/bridge/reports/' + report.id, { query: { version: String(version.version) } });
        if (!stopped && answer && answer.version && answer.version.pdf_instance) {
          clearInterval(timerId);
          setReport(answer);
        }
      } catch (e) { /* asked again at the next tick */ }
    }, 1000);
    return function () { stopped = true; clearInterval(timerId); };
  }, [waitingForPdf, report.id, version && version.version]);

  function adopt(answer) {
    setReport(answer);
    if (answer.version && answer.version.content) {
      setValues(answer.version.content.sections || {});
      setCritical(!!answer.version.content.critical);
      setAddendum(str(answer.version.content.addendum));
    }
  }

  async function save(body) {
    setSaveState('saving');
    try {
      const answer = await api('/bridge/reports/' + report.id, { method: 'PUT', body: body });
      setReport(answer);
      setSaveState('saved');
      setError('');
    } catch (e) {
      setSaveState('failed');
      setError(describeError(e));
    }
  }

  function schedule(body) {
    pending.current = Object.assign(pending.current || {}, body);
    setSaveState('pending');
    clearTimeout(timer.current);
    timer.current = setTimeout(function () {
      const next = pending.current;
      pending.current = null;
      save(next);
    }, AUTOSAVE_MS);
  }

  function change(id, value) {
    setValues(Object.assign({}, values, { [id]: value }));
    const sections = {};
    sections[id] = value;
    schedule({ sections: Object.assign({}, (pending.current && pending.current.sections) || {}, sections) });
  }

  async function post(action, body) {
    setError('');
    setNotice('');
    try {
      adopt(await api('/bridge/reports/' + report.id + '/' + action, { method: 'POST', body: body }));
    } catch (e) { setError(describeError(e)); }
  }

  async function start() {
    setError('');
    try {
      adopt(await api('/bridge/reports', { method: 'POST', body: { study: report.study.uid, template: templateKey } }));
    } catch (e) { setError(describeError(e)); }
  }

  async function amend(e) {
    e.preventDefault();
    if (!amendReason.trim()) return;
    await post('amend', { reason: amendReason.trim() });
    setAmending(false);
    setAmendReason('');
  }

  function flushThenSign() {
    if (pending.current) {
      clearTimeout(timer.current);
      const next = pending.current;
      pending.current = null;
      save(next).then(function () { setSigning(true); });
    } else {
      setSigning(true);
    }
  }

  const sections = template ? objects(template.sections) : [];
  const canStart = report.may && report.may.claim && !(version && !version.signed && report.assigned_to);
  // The printable report for the referring physician is the signed PDF itself.
  const printHref = '/bridge/reports/' + report.id + '/pdf' + (version && version.signed ? '?version=' + version.version : '');
  return html`<div>
    <div class="hb-page-head hb-report-page-head">
      <p><a class="hb-back-link" href="/bridge/app/reading.html">${t('reporting.back')}</a></p>
      <h1>${t('reporting.title')}</h1>
      <div class="hb-actions hb-no-print">
        ${viewer && report.study && viewerUrl(report.study.uid) ? html`<a class="hb-button" id="open-viewer" href=${viewerUrl(report.study.uid)} target="_blank" rel="noopener">${t('reporting.openViewer')}</a>` : null}
        ${version && version.signed ? html`<a class="hb-button" id="print-report" href=${printHref} target="_blank" rel="noopener">${t('reporting.print')}</a>` : null}
        ${report.may && report.may.release ? html`<button type="button" class="hb-button" id="release" onClick=${function () { post('release'); }}>${t('reading.release')}</button>` : null}
        ${report.may && report.may.amend && !amending ? html`<button type="button" class="hb-button" id="amend" onClick=${function () { setAmending(true); }}>${t('reporting.amend')}</button>` : null}
      </div>
    </div>
    ${amending && report.may && report.may.amend ? html`<form class="hb-section hb-card hb-no-print" id="amend-form" onSubmit=${amend}>
      <div class="hb-field"><label for="amend-reason">${t('reporting.amendReason')}</label>
        <input id="amend-reason" type="text" maxlength="500" required value=${amendReason}
               onInput=${function (e) { setAmendReason(e.target.value); }} /></div>
      <div class="hb-form-actions">
        <button type="submit" class="hb-button hb-button-primary" id="amend-start" disabled=${!amendReason.trim()}>${t('reporting.amendStart')}</button>
        <button type="button" class="hb-button" onClick=${function () { setAmending(false); }}>${t('common.cancel')}</button>
      </div></form>` : null}
    <div id="page-error" class="hb-alert hb-alert-error" role="alert" hidden=${!error}>${error}</div>
    <div id="page-notice" class="hb-alert hb-alert-ok" role="status" hidden=${!notice}>${notice}</div>
    ${report.study && report.study.gone ? html`<div class="hb-alert hb-alert-warn">${t('reporting.gone')}</div>` : null}
    <${Facts} report=${report} />

    ${!version || (canStart && !editing) ? html`<section class="hb-section hb-card" id="start-box">
      <div class="hb-field"><label for="template">${t('reporting.template')}</label>
        <select id="template" value=${templateKey} onChange=${function (e) { setTemplateKey(e.target.value); }}>
          ${templates.map(function (tp) { return html`<option value=${tp.key}>${str(tp.name)} (v${String(tp.version)})</option>`; })}
        </select></div>
      ${canStart ? html`<button type="button" class="hb-button hb-button-primary" id="start" onClick=${start}>${version ? t('reporting.takeOver') : t('reporting.start')}</button>`
        : html`<p class="hb-muted">${report.assigned_to ? t('reporting.claimedBy', { user: str(report.assigned_to) }) : t('reporting.cannotStart')}</p>`}
    </section>` : null}

    ${version ? html`<section class="hb-section" aria-labelledby="content-heading">
      <div class="hb-section-head">
        <h2 id="content-heading">${version.signed ? t('reporting.signedVersion', { version: version.version, status: t('reporting.status.' + str(version.status)) }) : t('reporting.draft', { version: version.version })}
          ${template ? html` <span class="hb-subtext">${str(template.name)} v${String(template.version)}</span>` : null}</h2>
        ${editing ? html`<p class="hb-muted" id="save-state" aria-live="polite" data-state=${saveState}>${saveState ? t('reporting.save.' + saveState) : ''}</p>` : null}
      </div>
      ${version.kind === 'addendum' ? html`<p class="hb-alert hb-alert-info">${t('reporting.amendingBecause', { reason: str(version.content && version.content.amendment_reason) })}</p>` : null}
      <form class="hb-report-form" id="report-form" onSubmit=${function (e) { e.preventDefault(); }}>
        ${sections.map(function (s) {
          return html`<${SectionField} key=${s.id} section=${s} value=${values[s.id]} readOnly=${!editing || version.kind === 'addendum'} onChange=${change} />`;
        })}
        ${version.kind === 'addendum' ? (editing ? html`<div class="hb-field"><label for="addendum">${t('reporting.addendum')}</label>
            <textarea id="addendum" rows="4" maxlength="20000" onInput=${function (e) { setAddendum(e.target.value); schedule({ addendum: e.target.value }); }}>${addendum}</textarea></div>`
          : html`<div class="hb-report-section"><h3 class="hb-report-section-label">${t('reporting.addendum')}</h3><p class="hb-report-text" id="addendum-text">${addendum}</p></div>`) : null}
        ${editing ? html`<label class="hb-critical-flag"><input id="critical" type="checkbox" checked=${critical}
            onChange=${function (e) { setCritical(e.target.checked); schedule({ critical: e.target.checked }); }} /> ${t('reporting.criticalFlag')}</label>`
          : (critical ? html`<p class="hb-badge hb-badge-error">${t('reporting.critical')}</p>` : null)}
      </form>
      ${critical ? html`<${CriticalForm} report=${report} onDone=${adopt} />` : null}
      ${version.signed ? html`<p class="hb-signature" id="signature">${t('reporting.signature', { user: str(version.signed_by), role: str(version.signed_role), at: formatDateTime(version.signed_at) })}
        <span class="hb-id hb-hash" id="content-hash">${str(version.content_hash)}</span>
        ${version.pdf_instance ? html` <span class="hb-subtext" id="stored">${t('reporting.stored')}</span>` : html` <span class="hb-subtext">${t('reporting.storing')}</span>`}</p>` : null}
      ${report.may && report.may.sign && editing ? html`<div class="hb-form-actions hb-no-print">
        <button type="button" class="hb-button hb-button-primary" id="sign" onClick=${flushThenSign}>${report.may.preliminary_signer ? t('reporting.signPreliminary') : t('reporting.sign')}</button></div>` : null}
    </section>` : null}

    ${signing ? html`<${SignDialog} report=${report} preliminary=${report.may && report.may.preliminary_signer}
      onClose=${function () { setSigning(false); }}
      onSigned=${function (answer) { setSigning(false); adopt(answer); setNotice(t('reporting.signedNotice', { status: t('reporting.status.' + str(answer.status)) })); }} />` : null}
    <${Versions} report=${report} />
    ${report.priors ? html`<${Priors} report=${report} />` : null}
  </div>`;
}

async function main() {
  const app = byId('report-app');
  try {
    await initLayout({ page: 'reading', title: t('reporting.title') });
  } catch (e) {
    render(html`<p class="hb-alert hb-alert-error">${t('common.sessionFailed', { error: describeError(e) })}</p>`, app);
    return;
  }
  const id = reportId();
  if (!id) { render(html`<p class="hb-alert hb-alert-error">${t('reporting.noId')}</p>`, app); return; }
  try {
    const version = new URLSearchParams(window.location.search).get('version');
    const [report, templates, viewer] = await Promise.all([
      api('/bridge/reports/' + id, { query: version && /^\d+$/.test(version) ? { version: version } : {} }),
      api('/bridge/report-templates').then(function (a) { return objects(a && a.templates); }, function () { return []; }),
      viewerAvailable()
    ]);
    if (!isObject(report)) throw new Error('no report');
    render(html`<${Editor} initial=${report} templates=${templates} viewer=${viewer} />`, app);
  } catch (e) {
    render(html`<p class="hb-alert hb-alert-error" role="alert">${t('reporting.loadFailed', { error: describeError(e) })}</p>`, app);
  }
}

main();
