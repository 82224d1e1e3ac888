/*
 * Sites: the hospitals this site knows (this one first). Every staff role reads; administrators
 * edit. Written with the view library (Preact + htm, lib/view.js): the page is one component
 * rendered into #sites-app.
 *   GET    /bridge/system        (layout, the caller's role)
 *   GET    /bridge/sites
 *   GET    /peers                (admin: Orthanc's peer names, suggestions for "Orthanc peer"; optional)
 *   POST   /bridge/sites         {id, name, address, phone, email, orthanc_peer}
 *   PUT    /bridge/sites/{id}    {name, address, phone, email, orthanc_peer}
 *   DELETE /bridge/sites/{id}    (after a confirmation dialog)
 * Server strings are Preact text children (text nodes, never HTML); the server's 400/409
 * detail is shown as is.
 */
import { api, describeError } from '../lib/api.js';
import { byId, el } from '../lib/dom.js';
import { formatDateTime } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { initLayout } from '../lib/layout.js';
import { str, isObject } from '../lib/text.js';
import { confirmDialog } from '../lib/ui.js';
import { html, render, useState, useEffect, useRef, useCallback } from '../lib/view.js';

const SITE_ID = /^[A-Za-z0-9_-]{1,32}$/;
const FIELDS = ['id', 'name', 'address', 'phone', 'email', 'orthanc_peer'];
const EMPTY_FORM = { id: '', name: '', address: '', phone: '', email: '', orthanc_peer: '' };

function inputId(field) {
  return 'site-' + (field === 'orthanc_peer' ? 'peer' : field);
}

// This site first (the server lists it first too), the others in the server's order.
function ordered(list) {
  const sites = Array.isArray(list) ? list.filter(isObject) : [];
  return sites.filter(function (s) { return s.local === true; })
    .concat(sites.filter(function (s) { return s.local !== true; }));
}

// The field a 400's detail names, marked invalid.
function fieldFromDetail(detail, editing) {
  const text = str(detail).toLowerCase();
  if (text.indexOf('peer') !== -1) return 'orthanc_peer';
  if (/\bid\b/.test(text) && !editing) return 'id';
  if (text.indexOf('name') !== -1) return 'name';
  if (text.indexOf('email') !== -1) return 'email';
  return '';
}

function Alert({ id, tone, role, text }) {
  return html`<div id=${id} class=${'hb-alert hb-alert-' + tone} role=${role} hidden=${!text}>${text || ''}</div>`;
}

function Cell({ label, className, children }) {
  const empty = children === undefined || children === null || children === '';
  return html`<td class=${className || ''} data-label=${label}>
    ${empty ? html`<span class="hb-muted">\u2014</span>` : html`<div class="hb-cell">${children}</div>`}
  </td>`;
}

function SiteRow({ site, isAdmin, onEdit, onRemove, removing }) {
  const local = site.local === true;
  const peer = site.orthanc_peer ? html`<span class="hb-id">${str(site.orthanc_peer)}</span>`
    : (local ? '' : html`<span class="hb-muted">${t('sites.noPeer')}</span>`);
  const added = local ? html`<span class="hb-muted">${t('sites.fromConfiguration')}</span>`
    : (site.created_at ? html`<time datetime=${str(site.created_at)}>${formatDateTime(site.created_at)}</time>` : '');
  let actions = null;
  if (isAdmin) {
    actions = local ? html`<span class="hb-muted">${t('sites.setInConfiguration')}</span>`
      : html`<div class="hb-actions hb-no-print">
          <button type="button" class="hb-button hb-button-small" onClick=${function () { onEdit(site); }}>${t('sites.edit')}</button>
          <button type="button" class="hb-button hb-button-small" disabled=${removing}
                  onClick=${function () { onRemove(site); }}>${t('sites.remove')}</button>
        </div>`;
  }
  return html`<tr class=${local ? 'hb-row-local' : ''}>
    <${Cell} label=${t('sites.col.site')}>
      <span class="hb-strong">${str(site.name) || str(site.id)}</span>
      <span class="hb-subtext hb-id">${str(site.id)}</span>
      ${local ? html`<span class="hb-chip hb-chip-local">${t('common.thisSite')}</span>` : null}
    <//>
    <${Cell} label=${t('sites.col.address')}>${str(site.address)}<//>
    <${Cell} label=${t('sites.col.phone')} className="hb-nowrap">${str(site.phone)}<//>
    <${Cell} label=${t('sites.col.email')}>${str(site.email)}<//>
    <${Cell} label=${t('sites.col.peer')}>${peer}<//>
    <${Cell} label=${t('sites.col.added')} className="hb-nowrap">${added}<//>
    ${isAdmin ? html`<${Cell} label=${t('sites.col.actions')} className="hb-nowrap">${actions}<//>` : null}
  </tr>`;
}

function Field({ field, label, optional, span, hint, input }) {
  return html`<div class=${'hb-field' + (span ? ' hb-span-2' : '')}>
    <label for=${inputId(field)}>${label}${optional ? html` <span class="hb-optional">${t('sites.optional')}</span>` : null}</label>
    ${input}
    ${hint || null}
  </div>`;
}

/*
 * The add/edit form. site: null to add, a site to edit. onDone(notice) after a save.
 */
function SiteForm({ site, peers, onCancel, onSaved, toggleRef }) {
  const editingId = site ? str(site.id) : null;
  const [values, setValues] = useState(function () {
    const start = Object.assign({}, EMPTY_FORM);
    if (site) FIELDS.forEach(function (f) { start[f] = str(site[f]); });
    return start;
  });
  const [invalid, setInvalid] = useState('');
  const [message, setMessage] = useState({ text: '', tone: '' });
  const [busy, setBusy] = useState(false);
  const card = useRef(null);
  const refs = { id: useRef(null), name: useRef(null), address: useRef(null), phone: useRef(null), email: useRef(null), orthanc_peer: useRef(null) };

  // Opened: into view, the first field to fill focused.
  useEffect(function () {
    if (card.current) card.current.scrollIntoView({ block: 'nearest' });
    const first = refs[editingId ? 'name' : 'id'].current;
    if (first) first.focus();
  }, []);

  function refuse(field, text) {
    setInvalid(field);
    setMessage({ text: text, tone: 'error' });
    if (refs[field].current) refs[field].current.focus();
  }

  async function submit(event) {
    event.preventDefault();
    setInvalid('');
    const body = {};
    FIELDS.forEach(function (f) { body[f] = values[f].trim(); });
    if (!editingId && !SITE_ID.test(body.id)) return refuse('id', t('sites.form.badId'));
    if (!body.name) return refuse('name', t('sites.form.noName'));
    setBusy(true);
    setMessage({ text: editingId ? t('sites.form.saving') : t('sites.form.adding'), tone: '' });
    try {
      let saved;
      if (editingId) {
        delete body.id;
        saved = await api('/bridge/sites/' + encodeURIComponent(editingId), { method: 'PUT', body: body });
      } else {
        saved = await api('/bridge/sites', { method: 'POST', body: body });
      }
      const label = str(saved && saved.name ? saved.name : body.name);
      setBusy(false);
      onSaved(editingId ? t('sites.saved', { name: label }) : t('sites.added', { name: label }));
    } catch (e) {
      let text;
      let field = '';
      if (e.status === 409) {
        text = e.detail ? t('sites.form.existsDetail', { detail: e.detail }) : t('sites.form.exists');
        field = 'id';
      } else if (e.status === 400) {
        text = t('sites.form.notSaved', { error: e.message + (e.detail ? ' \u2014 ' + e.detail : '') });
        field = fieldFromDetail(e.detail, !!editingId);
      } else if (e.status === 403) {
        text = t('sites.form.adminOnly');
      } else {
        text = t('sites.form.notSaved', { error: describeError(e) });
      }
      setInvalid(field);
      setMessage({ text: text, tone: 'error' });
      setBusy(false);
    }
  }

  const onInput = useCallback(function (event) {
    const field = event.target.getAttribute('data-field');
    const value = event.target.value;
    setValues(function (old) { const next = Object.assign({}, old); next[field] = value; return next; });
  }, []);

  function input(field, type, extra) {
    return html`<input id=${inputId(field)} name=${field} type=${type} ref=${refs[field]} data-field=${field}
                       value=${values[field]} onInput=${onInput} autocomplete="off"
                       aria-invalid=${invalid === field ? 'true' : undefined} ...${extra || {}} />`;
  }

  return html`<section id="site-card" ref=${card} class="hb-card hb-section hb-no-print" aria-labelledby="site-form-heading">
    <div class="hb-card-head"><h2 id="site-form-heading">${editingId ? t('sites.form.editTitle', { id: editingId }) : t('sites.form.addTitle')}</h2></div>
    <form id="site-form" noValidate onSubmit=${submit}>
      <div class="hb-form-grid">
        <${Field} field="id" label=${t('sites.form.id')}
          input=${input('id', 'text', { maxLength: 32, spellcheck: false, autocapitalize: 'characters', pattern: '[A-Za-z0-9_\\-]{1,32}',
                                       readOnly: !!editingId, 'aria-describedby': editingId ? undefined : 'site-id-hint' })}
          hint=${editingId ? null : html`<span id="site-id-hint" class="hb-field-hint">${t('sites.form.idHint')}</span>`} />
        <${Field} field="name" label=${t('sites.form.name')} input=${input('name', 'text', { maxLength: 200 })} />
        <${Field} field="address" label=${t('sites.form.address')} optional span input=${input('address', 'text', { maxLength: 500 })} />
        <${Field} field="phone" label=${t('sites.form.phone')} optional input=${input('phone', 'tel', { maxLength: 64 })} />
        <${Field} field="email" label=${t('sites.form.email')} optional input=${input('email', 'email', { maxLength: 200 })} />
        <${Field} field="orthanc_peer" label=${t('sites.form.peer')} optional span
          input=${input('orthanc_peer', 'text', { maxLength: 200, spellcheck: false, list: 'peer-names', 'aria-describedby': 'site-peer-hint' })}
          hint=${html`<datalist id="peer-names">${peers.map(function (name) { return html`<option key=${name} value=${name} />`; })}</datalist>
                 <span id="site-peer-hint" class="hb-field-hint">${t('sites.form.peerHint')}</span>`} />
      </div>
      <div class="hb-form-footer">
        <button id="site-submit" type="submit" class="hb-button hb-button-primary" disabled=${busy}>
          ${editingId ? t('sites.form.save') : t('sites.form.add')}</button>
        <button id="site-cancel" type="button" class="hb-button" onClick=${function () {
          onCancel();
          if (toggleRef.current) toggleRef.current.focus();
        }}>${t('common.cancel')}</button>
        <span id="site-message" class=${'hb-form-message' + (message.tone ? ' hb-form-message-' + message.tone : '')}
              role="status">${message.text}</span>
      </div>
    </form>
  </section>`;
}

function SitesPage() {
  const [role, setRole] = useState(null);          // null until /bridge/system answered
  const [sites, setSites] = useState(null);        // null until /bridge/sites answered
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [peers, setPeers] = useState([]);
  const [form, setForm] = useState(null);          // null: closed; {site: null | site, key}
  const [removing, setRemoving] = useState('');
  const toggleRef = useRef(null);
  const isAdmin = role === 'admin';

  const [loadFailed, setLoadFailed] = useState(false);
  const load = useCallback(async function () {
    setError('');
    try {
      const answer = await api('/bridge/sites');
      setSites(ordered(answer && answer.sites));
      setLoadFailed(false);
    } catch (e) {
      setLoadFailed(true);
      setError(t('sites.loadFailed', { error: describeError(e) }));
    }
  }, []);

  useEffect(function () {
    initLayout({ page: 'sites', title: t('nav.sites') }).then(function (system) {
      const r = system && system.user ? str(system.user.role) : '';
      setRole(r);
      if (r === 'admin') {
        api('/peers').then(function (list) {
          setPeers((Array.isArray(list) ? list : []).filter(function (n) { return typeof n === 'string'; }));
        }, function () { /* suggestions only */ });
      }
    }, function (e) {
      setError(t('common.sessionFailed', { error: describeError(e) }));
    });
    load();
  }, []);

  async function remove(site) {
    setNotice('');
    const id = str(site.id);
    const name = str(site.name) || id;
    const ok = await confirmDialog({
      title: t('sites.removeTitle'),
      body: [
        el('p', {}, [el('strong', { text: name }), ' (', el('span', { className: 'hb-id', text: id }), ')']),
        el('p', { className: 'hb-muted', text: t('sites.removeBody') })
      ],
      confirmLabel: t('sites.remove'),
      danger: true
    });
    if (!ok) return;
    setRemoving(id);
    try {
      await api('/bridge/sites/' + encodeURIComponent(id), { method: 'DELETE' });
      if (form && form.site && str(form.site.id) === id) setForm(null);
      setNotice(t('sites.removed', { name: name }));
      await load();
    } catch (e) {
      setError(t('sites.removeFailed', { id: id, error: describeError(e) }));
    }
    setRemoving('');
  }

  const others = sites ? sites.filter(function (s) { return s.local !== true; }) : [];
  const reachable = others.filter(function (s) { return s.orthanc_peer; }).length;
  let summary = '';
  if (!loadFailed) {
    summary = sites === null ? t('common.loading') : (others.length === 0 ? t('sites.noOthers')
      : t('sites.summary', { count: others.length, peers: reachable }));
  }
  const shown = sites !== null;

  return html`
    <div class="hb-page-head">
      <h1>${t('sites.title')}</h1>
      <div class="hb-actions hb-no-print">
        <button id="add-toggle" ref=${toggleRef} type="button" class="hb-button hb-button-primary" hidden=${!isAdmin}
                aria-expanded=${form ? 'true' : 'false'} aria-controls="site-card"
                onClick=${function () {
                  if (form && !form.site) setForm(null);
                  else setForm({ site: null, key: Date.now() });
                }}>${t('sites.addToggle')}</button>
      </div>
    </div>
    <${Alert} id="sites-error" tone="error" role="alert" text=${error} />
    <p id="sites-notice" class="hb-alert hb-alert-ok" role="status" hidden=${!notice}>${notice}</p>
    <p id="readonly-note" class="hb-muted hb-section" hidden=${role === null || isAdmin}>${t('sites.readOnly')}</p>
    ${form && isAdmin ? html`<${SiteForm} key=${form.key} site=${form.site} peers=${peers} toggleRef=${toggleRef}
        onCancel=${function () { setForm(null); }}
        onSaved=${function (text) { setForm(null); setNotice(text); load(); }} />` : null}
    <section class="hb-section" aria-labelledby="sites-heading">
      <div class="hb-section-head">
        <h2 id="sites-heading" class="hb-visually-hidden">${t('sites.heading')}</h2>
        <p id="sites-summary" class="hb-muted" aria-live="polite">${summary}</p>
      </div>
      <p id="sites-empty" class="hb-empty" hidden=${!(shown && sites.length === 0)}>${t('sites.empty')}</p>
      <div class="hb-table-wrap" id="sites-wrap" hidden=${!(shown && sites.length > 0)}>
        <table class="hb-table hb-table-cards">
          <caption class="hb-visually-hidden">${t('sites.caption')}</caption>
          <thead>
            <tr id="sites-head">
              <th scope="col">${t('sites.col.site')}</th>
              <th scope="col">${t('sites.col.address')}</th>
              <th scope="col">${t('sites.col.phone')}</th>
              <th scope="col">${t('sites.col.email')}</th>
              <th scope="col">${t('sites.col.peer')}</th>
              <th scope="col">${t('sites.col.added')}</th>
              ${isAdmin ? html`<th scope="col" id="actions-head"><span class="hb-visually-hidden">${t('sites.col.actions')}</span></th>` : null}
            </tr>
          </thead>
          <tbody id="sites-body">
            ${(sites || []).map(function (site) {
              return html`<${SiteRow} key=${str(site.id)} site=${site} isAdmin=${isAdmin} removing=${removing === str(site.id)}
                                       onEdit=${function (s) { setForm({ site: s, key: Date.now() }); }}
                                       onRemove=${remove} />`;
            })}
          </tbody>
        </table>
      </div>
    </section>`;
}

render(html`<${SitesPage} />`, byId('sites-app'));
