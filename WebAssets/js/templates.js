/*
 * Report templates: the templates radiologists write reports from (newest versions, inactive ones
 * too), each with its sections. Administrators edit a template as JSON ({name, modalities, exam,
 * sections, active}); saving makes a new version (reports keep the version they were written with)
 * and the server refuses what is wrong (an unknown field type, named) with the reason shown here.
 *   GET  /bridge/report-templates?all=1       the templates and the field types
 *   POST /bridge/report-templates              a new template {key, name, modalities, exam, sections}
 *   PUT  /bridge/report-templates/{key}        a new version of one
 * Server strings are Preact text children (never HTML).
 */
import { api, describeError } from '../lib/api.js';
import { byId } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { initLayout } from '../lib/layout.js';
import { str, objects } from '../lib/text.js';
import { html, render, useState, useEffect } from '../lib/view.js';

const EDITABLE = ['name', 'modalities', 'exam', 'sections', 'active'];

function editable(template) {
  const out = {};
  EDITABLE.forEach(function (key) { if (template[key] !== undefined) out[key] = template[key]; });
  return out;
}

const NEW_TEMPLATE = {
  key: 'new-template',
  name: 'New template',
  modalities: ['CT'],
  exam: '',
  sections: [
    { id: 'clinical', label: 'Clinical information', type: 'text' },
    { id: 'findings', label: 'Findings', type: 'text', required: true },
    { id: 'impression', label: 'Impression', type: 'text', required: true }
  ]
};

function Editor({ template, isNew, onSaved, onCancel }) {
  const [text, setText] = useState(JSON.stringify(isNew ? NEW_TEMPLATE : editable(template), null, 2));
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function save(e) {
    e.preventDefault();
    setError('');
    let body;
    try {
      body = JSON.parse(text);
    } catch (err) {
      setError(t('templates.badJson', { error: String(err.message || err) }));
      return;
    }
    setBusy(true);
    try {
      const saved = isNew
        ? await api('/bridge/report-templates', { method: 'POST', body: body })
        : await api('/bridge/report-templates/' + encodeURIComponent(template.key), { method: 'PUT', body: body });
      onSaved(saved);
    } catch (err) {
      setError(describeError(err));
    }
    setBusy(false);
  }
  return html`<form class="hb-section hb-card" id="template-editor" onSubmit=${save}>
    <h2>${isNew ? t('templates.new') : t('templates.editing', { name: str(template.name), version: String(template.version) })}</h2>
    <p class="hb-muted">${t('templates.explain')}</p>
    <div class="hb-field"><label for="template-json">${t('templates.json')}</label>
      <textarea id="template-json" rows="22" spellcheck="false" class="hb-code"
        value=${text} onInput=${function (e) { setText(e.target.value); }}></textarea></div>
    <p id="template-error" class="hb-form-message hb-form-message-error" role="alert">${error}</p>
    <div class="hb-form-actions">
      <button type="submit" class="hb-button hb-button-primary" id="template-save" disabled=${busy}>${t('templates.save')}</button>
      <button type="button" class="hb-button" onClick=${onCancel}>${t('common.cancel')}</button>
    </div>
  </form>`;
}

function Sections({ template }) {
  return html`<ul class="hb-template-sections">${objects(template.sections).map(function (s) {
    const options = Array.isArray(s.options) ? s.options.map(str).join(', ') : '';
    return html`<li><span class="hb-strong">${str(s.label)}</span> <span class="hb-subtext">${str(s.type)}${s.required ? ' \u00b7 ' + t('templates.required') : ''}${options ? ' \u00b7 ' + options : ''}</span></li>`;
  })}</ul>`;
}

function TemplatesPage({ admin }) {
  const [templates, setTemplates] = useState(null);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [editing, setEditing] = useState(null);  // {template, isNew}

  async function load() {
    try {
      const answer = await api('/bridge/report-templates', { query: { all: admin ? 1 : '' } });
      setTemplates(objects(answer && answer.templates));
    } catch (e) {
      setError(t('templates.loadFailed', { error: describeError(e) }));
    }
  }
  useEffect(function () { load(); }, []);

  function saved(template) {
    setEditing(null);
    setNotice(t('templates.saved', { name: str(template.name), version: String(template.version) }));
    load();
  }

  const list = templates || [];
  return html`<div>
    <div class="hb-page-head">
      <p><a class="hb-back-link" href="/bridge/app/reading.html">${t('reporting.back')}</a></p>
      <h1>${t('templates.title')}</h1>
      ${admin && !editing ? html`<div class="hb-actions"><button type="button" class="hb-button hb-button-primary" id="template-new"
        onClick=${function () { setNotice(''); setEditing({ template: null, isNew: true }); }}>${t('templates.new')}</button></div>` : null}
    </div>
    <div id="page-error" class="hb-alert hb-alert-error" role="alert" hidden=${!error}>${error}</div>
    <div id="page-notice" class="hb-alert hb-alert-ok" role="status" hidden=${!notice}>${notice}</div>
    ${editing ? html`<${Editor} key=${editing.isNew ? 'new' : editing.template.key + '-' + editing.template.version}
        template=${editing.template} isNew=${editing.isNew} onSaved=${saved} onCancel=${function () { setEditing(null); }} />` : null}
    ${templates && list.length === 0 ? html`<p class="hb-empty">${t('templates.none')}</p>` : null}
    ${list.length ? html`<div class="hb-table-wrap"><table class="hb-table hb-table-cards" id="templates-table">
      <caption class="hb-visually-hidden">${t('templates.title')}</caption>
      <thead><tr><th scope="col">${t('templates.col.name')}</th><th scope="col">${t('templates.col.version')}</th>
        <th scope="col">${t('templates.col.modalities')}</th><th scope="col">${t('templates.col.sections')}</th>
        <th scope="col"><span class="hb-visually-hidden">${t('reading.col.actions')}</span></th></tr></thead>
      <tbody id="templates-body">${list.map(function (tp) {
        return html`<tr data-template=${str(tp.key)}>
          <td data-label=${t('templates.col.name')}><span class="hb-strong">${str(tp.name)}</span>
            <span class="hb-subtext hb-id">${str(tp.key)}</span>
            ${tp.active === false ? html` <span class="hb-badge hb-badge-small">${t('templates.inactive')}</span>` : null}</td>
          <td data-label=${t('templates.col.version')} class="hb-template-version">${String(tp.version)}</td>
          <td data-label=${t('templates.col.modalities')}>${(Array.isArray(tp.modalities) ? tp.modalities : []).map(str).join(', ')}</td>
          <td data-label=${t('templates.col.sections')}><${Sections} template=${tp} /></td>
          <td class="hb-nowrap">${admin ? html`<button type="button" class="hb-button hb-button-small hb-template-edit"
              onClick=${function () { setNotice(''); setEditing({ template: tp, isNew: false }); window.scrollTo(0, 0); }}>${t('templates.edit')}</button>` : null}</td>
        </tr>`;
      })}</tbody></table></div>` : null}
  </div>`;
}

async function main() {
  let system = null;
  try {
    system = await initLayout({ page: 'reading', title: t('templates.title') });
  } catch (e) {
    render(html`<p class="hb-alert hb-alert-error">${t('common.sessionFailed', { error: describeError(e) })}</p>`, byId('templates-app'));
    return;
  }
  const user = (system && system.user) || {};
  render(html`<${TemplatesPage} admin=${user.role === 'admin'} />`, byId('templates-app'));
}

main();
