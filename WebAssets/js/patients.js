/*
 * Patients: the registry (list, search, new entry) and one entry (?id=PAT-…).
 *   GET  /bridge/system                         (layout)
 *   GET  /bridge/patients?national_id=&name=&birth_date=&status=&limit=&offset=
 *   GET  /bridge/patients?status=unlinked&limit=1   (how many entries still need linking)
 *   POST /bridge/patients                       (new entry)
 *   GET  /bridge/patients/{id}                  (entry + studies + discrepancies + merges)
 *   PUT  /bridge/patients/{id}                  (changed demographics only)
 *   POST /bridge/patients/{id}/identifiers      {site_id, patient_id, issuer}
 *   POST /bridge/patients/{id}/merge            {from, reason}   (after a confirmation dialog)
 *   GET  /bridge/sites                          (site names, the "Add identifier" choice)
 *   GET  /bridge/patients/{id}/consents         (current decision per kind + history)
 *   POST /bridge/patients/{id}/consents         {kind, decision, method, valid_from?, valid_until?, note?,
 *                                                attachment? (base64), attachment_type?}; "Revoke" = a deny
 *   /bridge/patients/{id}/consents/{cid}/attachment   (link to the scan)
 *   access-report.html?id=… link (admin, reception)
 * Every server string (registry, DICOM) reaches the DOM only via textContent / HB.el.
 * Discrepancies between DICOM and the registry are shown, never corrected automatically.
 */
(function () {
  'use strict';

  var el = HB.el;
  var setText = HB.setText;

  var PAGE_SIZE = 25;
  var ORTHANC_ID = /^[0-9a-f]{8}(-[0-9a-f]{8}){4}$/i;
  var DETAIL = '/bridge/app/patients.html?id=';

  var params = new URLSearchParams(window.location.search);
  var system = null;
  var sitesById = {};
  var sitesList = [];

  function str(value) {
    return value === undefined || value === null ? '' : String(value);
  }

  function isObject(value) {
    return value !== null && typeof value === 'object';
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function showBox(id, message) {
    var box = byId(id);
    box.textContent = message || '';
    box.hidden = !message;
  }

  function setMessage(id, text, tone) {
    var node = byId(id);
    node.textContent = text || '';
    node.className = 'hb-form-message' + (tone ? ' hb-form-message-' + tone : '');
  }

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

  function patientName(p) {
    return HB.formatRegistryName(p.first_name, p.last_name);
  }

  function detailUrl(id) {
    return DETAIL + encodeURIComponent(str(id));
  }

  function siteLabel(id) {
    var site = sitesById[str(id)];
    return site && site.name ? str(site.name) : str(id);
  }

  function statusBadge(p) {
    if (p.merged_into) {
      return el('span', { className: 'hb-badge', text: 'Merged into ' + str(p.merged_into) });
    }
    if (p.status === 'unlinked') return el('span', { className: 'hb-badge hb-badge-warn', text: 'Unlinked' });
    if (p.status === 'registered') return el('span', { className: 'hb-badge hb-badge-ok', text: 'Registered' });
    return el('span', { className: 'hb-badge', text: str(p.status) || 'Unknown' });
  }

  function loadSites() {
    return HB.api('/bridge/sites').then(function (answer) {
      sitesList = answer && Array.isArray(answer.sites) ? answer.sites.filter(isObject) : [];
      sitesById = {};
      sitesList.forEach(function (s) { sitesById[str(s.id)] = s; });
      return sitesList;
    }, function () {
      return null;   // names fall back to site IDs
    });
  }

  /* ================================================================== list */

  var listState = { offset: 0, total: 0, query: {} };
  var sitesReady = null;

  function readSearchForm() {
    var query = {
      national_id: byId('q-national-id').value.trim(),
      name: byId('q-name').value.trim(),
      birth_date: byId('q-birth-date').value,
      status: byId('q-status').value
    };
    Object.keys(query).forEach(function (k) { if (!query[k]) delete query[k]; });
    return query;
  }

  function writeUrl(query, offset) {
    var p = new URLSearchParams();
    Object.keys(query).forEach(function (k) { p.set(k, query[k]); });
    if (offset) p.set('offset', String(offset));
    var search = p.toString();
    try {
      window.history.replaceState(null, '', window.location.pathname + (search ? '?' + search : ''));
    } catch (e) { /* ignore */ }
  }

  var listSeq = 0;

  async function loadList() {
    var seq = ++listSeq;
    var query = listState.query;
    showBox('list-error', '');
    byId('results-summary').textContent = 'Loading\u2026';
    var q = { limit: PAGE_SIZE, offset: listState.offset };
    Object.keys(query).forEach(function (k) { q[k] = query[k]; });
    try {
      var answer = await HB.api('/bridge/patients', { query: q });
      await sitesReady;   // site names for the identifier chips (null when unavailable)
      if (seq !== listSeq) return;
      renderList(answer || {});
    } catch (e) {
      if (seq !== listSeq) return;
      byId('results-summary').textContent = '';
      showBox('list-error', (e.status === 400 ? 'The search was not accepted: ' : 'Could not load the patients: ') +
        HB.describeError(e));
    }
    loadUnlinkedCount();
  }

  function renderList(answer) {
    var patients = Array.isArray(answer.patients) ? answer.patients.filter(isObject) : [];
    var total = typeof answer.total === 'number' ? answer.total : patients.length;
    var offset = typeof answer.offset === 'number' ? answer.offset : listState.offset;
    listState.total = total;
    listState.offset = offset;
    var body = HB.clear(byId('results-body'));
    patients.forEach(function (p) { body.appendChild(patientRow(p)); });
    byId('results-wrap').hidden = patients.length === 0;
    byId('results-empty').hidden = patients.length !== 0;
    var filtered = Object.keys(listState.query).length > 0;
    byId('results-empty').textContent = filtered ? 'No patient matches this search.' : 'The registry is empty.';
    byId('results-summary').textContent = patients.length === 0 ? '' :
      'Showing ' + HB.formatNumber(offset + 1) + '\u2013' + HB.formatNumber(offset + patients.length) + ' of ' +
      HB.formatNumber(total) + (filtered ? ' matching entries' : ' entries') +
      (listState.query.status === 'unlinked' ? ' not linked to a national ID' : '');
    var pager = byId('pager');
    pager.hidden = total <= PAGE_SIZE && offset === 0;
    byId('page-prev').disabled = offset <= 0;
    byId('page-next').disabled = offset + patients.length >= total;
    var pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    byId('page-info').textContent = 'Page ' + HB.formatNumber(Math.floor(offset / PAGE_SIZE) + 1) + ' of ' +
      HB.formatNumber(pages);
  }

  function patientRow(p) {
    var url = detailUrl(p.id);
    var name = patientName(p);
    var link = el('a', { text: name || 'No name', className: name ? '' : 'hb-muted', attrs: { href: url } });
    var ids = Array.isArray(p.identifiers) ? p.identifiers.filter(isObject) : [];
    var chips = null;
    if (ids.length) {
      chips = el('ul', { className: 'hb-chips' });
      ids.slice(0, 3).forEach(function (ident) {
        chips.appendChild(el('li', {
          className: 'hb-chip', text: str(ident.site_id) + ': ' + str(ident.patient_id),
          attrs: { title: siteLabel(ident.site_id) + (ident.issuer ? ' \u00b7 issuer ' + str(ident.issuer) : '') }
        }));
      });
      if (ids.length > 3) chips.appendChild(el('li', { className: 'hb-chip', text: '+' + (ids.length - 3) + ' more' }));
    }
    var row = el('tr', {
      className: 'hb-row-link' + (p.status === 'unlinked' && !p.merged_into ? ' hb-row-unlinked' : '') +
        (p.merged_into ? ' hb-row-merged' : '')
    }, [
      cell('Name', [link, el('span', { className: 'hb-subtext hb-id', text: str(p.id) })], 'hb-strong'),
      cell('National ID', str(p.national_id) ||
        (p.status === 'unlinked' ? el('span', { className: 'hb-text-warn', text: 'none \u2014 needs linking' }) : '')),
      cell('Birth date', str(p.date_of_birth), 'hb-nowrap'),
      cell('Sex', HB.formatSex(p.gender), 'hb-nowrap'),
      cell('Status', statusBadge(p), 'hb-nowrap'),
      cell('Identifiers', chips)
    ]);
    row.addEventListener('click', function (event) {
      if (event.target.closest('a, button')) return;
      var selection = window.getSelection ? String(window.getSelection()) : '';
      if (selection) return;   // the user is selecting text to copy
      window.location.assign(url);
    });
    return row;
  }

  async function loadUnlinkedCount() {
    var banner = byId('unlinked-banner');
    if (listState.query.status === 'unlinked') { banner.hidden = true; return; }
    try {
      var answer = await HB.api('/bridge/patients', { query: { status: 'unlinked', limit: 1 } });
      var count = answer && typeof answer.total === 'number' ? answer.total : 0;
      HB.clear(banner);
      if (count > 0) {
        HB.appendChildren(banner, [
          el('strong', { text: HB.formatNumber(count) + (count === 1 ? ' entry is' : ' entries are') +
            ' not linked to a national ID.' }),
          ' They were created from images without one. ',
          el('a', { text: 'Show unlinked entries', attrs: { href: '/bridge/app/patients.html?status=unlinked' } })
        ]);
      }
      banner.hidden = count <= 0;
    } catch (e) {
      banner.hidden = true;
    }
  }

  function setupNewForm() {
    var toggle = byId('new-toggle');
    var card = byId('new-card');
    var form = byId('new-form');
    function open(value) {
      card.hidden = !value;
      toggle.setAttribute('aria-expanded', value ? 'true' : 'false');
      if (value) byId('new-last-name').focus();
    }
    toggle.addEventListener('click', function () { open(card.hidden); });
    byId('new-cancel').addEventListener('click', function () {
      form.reset();
      setMessage('new-message', '');
      open(false);
      toggle.focus();
    });
    form.addEventListener('submit', async function (event) {
      event.preventDefault();
      var body = {
        last_name: byId('new-last-name').value.trim(),
        first_name: byId('new-first-name').value.trim(),
        national_id: byId('new-national-id').value.trim(),
        date_of_birth: byId('new-dob').value,
        gender: byId('new-gender').value,
        phone: byId('new-phone').value.trim()
      };
      if (!body.last_name && !body.first_name) {
        setMessage('new-message', 'Enter at least a last name or a first name.', 'error');
        byId('new-last-name').setAttribute('aria-invalid', 'true');
        byId('new-last-name').focus();
        return;
      }
      byId('new-last-name').removeAttribute('aria-invalid');
      ['national_id', 'date_of_birth', 'gender', 'phone'].forEach(function (k) { if (!body[k]) delete body[k]; });
      var submit = byId('new-submit');
      submit.disabled = true;
      setMessage('new-message', 'Creating\u2026');
      try {
        var created = await HB.api('/bridge/patients', { method: 'POST', body: body });
        if (created && created.id) {
          window.location.assign(detailUrl(created.id));
          return;
        }
        setMessage('new-message', 'Created.', 'ok');
        loadList();
      } catch (e) {
        var node = byId('new-message');
        if (e.status === 409 && body.national_id) {
          setMessage('new-message', 'This national ID already belongs to another entry. ', 'error');
          node.appendChild(el('a', {
            text: 'Show it',
            attrs: { href: '/bridge/app/patients.html?national_id=' + encodeURIComponent(body.national_id) }
          }));
        } else {
          setMessage('new-message', 'Not created: ' + HB.describeError(e), 'error');
        }
      }
      submit.disabled = false;
    });
  }

  function initList() {
    byId('list-view').hidden = false;
    ['national_id', 'name', 'birth_date', 'status'].forEach(function (k) {
      var v = params.get(k);
      if (v) listState.query[k] = v.trim();
    });
    byId('q-national-id').value = listState.query.national_id || '';
    byId('q-name').value = listState.query.name || '';
    byId('q-birth-date').value = listState.query.birth_date || '';
    var status = listState.query.status;
    byId('q-status').value = status === 'registered' || status === 'unlinked' ? status : '';
    var offset = parseInt(params.get('offset') || '0', 10);
    listState.offset = isFinite(offset) && offset > 0 ? offset : 0;

    byId('search-form').addEventListener('submit', function (event) {
      event.preventDefault();
      listState.query = readSearchForm();
      listState.offset = 0;
      writeUrl(listState.query, 0);
      loadList();
    });
    byId('search-clear').addEventListener('click', function () {
      byId('search-form').reset();
      listState.query = {};
      listState.offset = 0;
      writeUrl({}, 0);
      loadList();
      byId('q-national-id').focus();
    });
    byId('page-prev').addEventListener('click', function () {
      listState.offset = Math.max(0, listState.offset - PAGE_SIZE);
      writeUrl(listState.query, listState.offset);
      loadList();
    });
    byId('page-next').addEventListener('click', function () {
      listState.offset += PAGE_SIZE;
      writeUrl(listState.query, listState.offset);
      loadList();
    });
    setupNewForm();
    sitesReady = loadSites();
    loadList();
  }

  /* ================================================================ detail */

  var entryId = '';
  var entry = null;        // the last GET /bridge/patients/{id}
  var DEMO_FIELDS = [
    { key: 'last_name', input: 'd-last-name' },
    { key: 'first_name', input: 'd-first-name' },
    { key: 'national_id', input: 'd-national-id' },
    { key: 'date_of_birth', input: 'd-dob' },
    { key: 'gender', input: 'd-gender' },
    { key: 'phone', input: 'd-phone' }
  ];
  var DISCREPANCY_LABELS = { name: 'Name', birth_date: 'Birth date', sex: 'Sex' };

  function apiPath(suffix) {
    return '/bridge/patients/' + encodeURIComponent(entryId) + (suffix || '');
  }

  async function loadDetail() {
    showBox('detail-error', '');
    try {
      var answer = await HB.api(apiPath());
      if (!isObject(answer)) throw new Error('Unexpected answer from the server.');
      entry = answer;
      renderDetail(answer);
      byId('detail-body').hidden = false;
      return answer;
    } catch (e) {
      byId('detail-body').hidden = true;
      if (e.status === 404) {
        setText('d-title', 'Unknown patient');
        showBox('detail-error', 'There is no registry entry ' + entryId + '.');
      } else {
        showBox('detail-error', 'Could not load this patient: ' + HB.describeError(e));
      }
      return null;
    }
  }

  function renderDetail(p) {
    var name = patientName(p);
    setText('d-title', name || 'No name');
    byId('d-id').textContent = str(p.id) || entryId;
    var badge = byId('d-status');
    var fresh = statusBadge(p);
    badge.className = fresh.className;
    badge.textContent = fresh.textContent;
    badge.hidden = false;
    byId('d-federation').setAttribute('href',
      '/bridge/app/federation.html?patient_id=' + encodeURIComponent(str(p.id) || entryId));
    byId('d-updated').textContent = p.updated_at ? 'Updated ' + HB.formatDateTime(p.updated_at) : '';

    var merged = byId('d-merged');
    HB.clear(merged);
    if (p.merged_into) {
      HB.appendChildren(merged, [
        'This entry was merged into ',
        el('a', { text: str(p.merged_into), attrs: { href: detailUrl(p.merged_into) } }),
        '. Its identifiers and studies are there now; use that entry.'
      ]);
    }
    merged.hidden = !p.merged_into;
    byId('d-unlinked').hidden = !(p.status === 'unlinked' && !p.merged_into);
    var editable = !p.merged_into;
    byId('id-form').hidden = !editable;
    byId('merge-card').hidden = !editable;
    DEMO_FIELDS.forEach(function (f) { byId(f.input).disabled = !editable; });
    byId('demo-submit').disabled = !editable;
    byId('demo-reset').disabled = !editable;

    fillDemographics(p);
    renderDiscrepancies(Array.isArray(p.discrepancies) ? p.discrepancies.filter(isObject) : [], p);
    renderIdentifiers(Array.isArray(p.identifiers) ? p.identifiers.filter(isObject) : []);
    renderStudies(Array.isArray(p.studies) ? p.studies.filter(isObject) : []);
    renderMerges(Array.isArray(p.merges) ? p.merges.filter(isObject) : []);
    fillSiteChoice();
    renderConsents();     // a merged entry's consent can no longer be changed here
  }

  function fillDemographics(p) {
    DEMO_FIELDS.forEach(function (f) {
      var input = byId(f.input);
      var value = str(p[f.key]);
      if (f.key === 'gender') {
        value = value.toUpperCase();
        var known = Array.prototype.some.call(input.options, function (o) { return o.value === value; });
        if (!known) input.appendChild(el('option', { text: value, attrs: { value: value } }));   // keep an unknown code
      }
      input.value = value;
      input.removeAttribute('aria-invalid');
    });
  }

  function formatDiscrepancyValue(field, value) {
    if (value === undefined || value === null || value === '') return '(empty)';
    if (field === 'name') return str(value).indexOf('^') !== -1 ? HB.formatPatientName(value) : str(value);
    if (field === 'sex') return HB.formatSex(value);
    return str(value);
  }

  function renderDiscrepancies(list, p) {
    var box = byId('d-discrepancies');
    var ul = HB.clear(byId('d-discrepancy-list'));
    document.querySelectorAll('#demo-form .hb-field').forEach(function (field) {
      field.classList.remove('hb-field-discrepant');
      var note = field.querySelector('.hb-discrepancy-note');
      if (note) note.parentNode.removeChild(note);
    });
    var studies = Array.isArray(p.studies) ? p.studies : [];
    list.forEach(function (d) {
      var field = str(d.field);
      var label = DISCREPANCY_LABELS[field] || field;
      var dicom = formatDiscrepancyValue(field, d.dicom);
      var registry = formatDiscrepancyValue(field, d.registry);
      var study = null;
      studies.forEach(function (s) { if (isObject(s) && s.study_uid && s.study_uid === d.study_uid) study = s; });
      var where = null;
      if (study) {
        var text = 'study of ' + (HB.formatStudyDate(str(study.study_date), '') || 'unknown date') +
          (study.description ? ', ' + str(study.description) : '');
        where = ORTHANC_ID.test(str(study.orthanc_id))
          ? el('a', { text: text, attrs: { href: '/app/explorer.html#study?uuid=' + encodeURIComponent(study.orthanc_id) } })
          : el('span', { text: text });
      } else if (d.study_uid) {
        where = el('span', { text: 'study ' + str(d.study_uid) });
      }
      ul.appendChild(el('li', {}, [
        el('strong', { text: label + ': ' }),
        'DICOM says ', el('span', { className: 'hb-quote', text: '\u201c' + dicom + '\u201d' }),
        ', registry says ', el('span', { className: 'hb-quote', text: '\u201c' + registry + '\u201d' }),
        where ? ' (' : null, where, where ? ')' : null
      ]));
      if (!DISCREPANCY_LABELS[field]) return;
      var fields = document.querySelectorAll('#demo-form .hb-field[data-field="' + field + '"]');
      fields.forEach(function (node) { node.classList.add('hb-field-discrepant'); });
      if (fields.length) {
        fields[0].appendChild(el('span', { className: 'hb-discrepancy-note', text: 'DICOM says \u201c' + dicom + '\u201d' }));
      }
    });
    box.hidden = list.length === 0;
  }

  function renderIdentifiers(ids) {
    var body = HB.clear(byId('ids-body'));
    ids.forEach(function (ident) {
      var site = sitesById[str(ident.site_id)];
      var siteNode = [el('span', { text: site && site.name ? str(site.name) : str(ident.site_id) })];
      if (site && site.name) siteNode.push(el('span', { className: 'hb-subtext', text: str(ident.site_id) }));
      if (site && site.local) siteNode.push(el('span', { className: 'hb-chip hb-chip-local', text: 'this site' }));
      body.appendChild(el('tr', {}, [
        cell('Site', siteNode),
        cell('Patient ID', el('span', { className: 'hb-id', text: str(ident.patient_id) })),
        cell('Issuer', str(ident.issuer))
      ]));
    });
    byId('ids-wrap').hidden = ids.length === 0;
    byId('ids-empty').hidden = ids.length !== 0;
    byId('ids-empty').textContent = entry && entry.merged_into
      ? 'None: they moved to ' + str(entry.merged_into) + '.' : 'No identifier yet.';
  }

  function fillSiteChoice() {
    var select = byId('id-site');
    var previous = select.value;
    HB.clear(select);
    var choices = sitesList.slice();
    if (choices.length === 0 && system && system.site && system.site.id) {
      choices = [{ id: system.site.id, name: system.site.name, local: true }];
    }
    choices.sort(function (a, b) { return (b.local ? 1 : 0) - (a.local ? 1 : 0); });
    choices.forEach(function (s) {
      var label = s.local ? (str(s.name) || str(s.id)) + ' (this site)'
        : (s.name ? str(s.name) + ' (' + str(s.id) + ')' : str(s.id));
      select.appendChild(el('option', { text: label, attrs: { value: str(s.id) } }));
    });
    if (previous) select.value = previous;
    if (!select.value && select.options.length) select.selectedIndex = 0;
  }

  function studyKey(s) {
    return (s.study_date ? str(s.study_date) : '0000-00-00') + ' ' + str(s.study_time);
  }

  function renderStudies(studies) {
    var body = HB.clear(byId('studies-body'));
    studies = studies.map(function (s, i) { return { s: s, i: i }; }).sort(function (a, b) {
      var ka = studyKey(a.s);
      var kb = studyKey(b.s);
      return ka === kb ? a.i - b.i : (ka < kb ? 1 : -1);
    }).map(function (x) { return x.s; });
    studies.forEach(function (s) {
      var name = HB.formatPatientName(s.patient_name);
      var nameNode = name
        ? (ORTHANC_ID.test(str(s.orthanc_id))
          ? el('a', { text: name, attrs: { href: '/app/explorer.html#study?uuid=' + encodeURIComponent(s.orthanc_id), title: 'Open this study in Orthanc Explorer' } })
          : el('span', { text: name }))
        : '';
      var modalities = Array.isArray(s.modalities) ? s.modalities.filter(Boolean).map(str).join(', ') : '';
      var origin = s.origin_site
        ? [el('span', { text: 'Retrieved from' }), el('span', { className: 'hb-subtext', text: siteLabel(s.origin_site) })]
        : el('span', { className: 'hb-muted', text: 'Received here' });
      body.appendChild(el('tr', {}, [
        cell('Study date', HB.formatStudyDate(str(s.study_date), str(s.study_time)), 'hb-nowrap'),
        cell('Name in DICOM', nameNode),
        cell('Patient ID', str(s.patient_id)),
        cell('Modality', modalities),
        cell('Description', [s.description ? el('span', { text: str(s.description) }) : null, restrictedBadge(s)].filter(Boolean)),
        cell('Series', HB.formatNumber(s.series_count), 'hb-num'),
        cell('Instances', HB.formatNumber(s.instance_count), 'hb-num'),
        cell('From', origin)
      ]));
    });
    byId('studies-wrap').hidden = studies.length === 0;
    byId('studies-empty').hidden = studies.length !== 0;
    byId('studies-summary').textContent = studies.length
      ? HB.formatNumber(studies.length) + (studies.length === 1 ? ' study' : ' studies') + ', newest first' : '';
  }

  function renderMerges(merges) {
    var body = HB.clear(byId('merges-body'));
    merges.forEach(function (m) {
      body.appendChild(el('tr', {}, [
        cell('When', m.at ? el('time', { text: HB.formatDateTime(m.at), attrs: { datetime: str(m.at) } }) : '', 'hb-nowrap'),
        cell('Merged entry', m.from ? el('a', { className: 'hb-id', text: str(m.from), attrs: { href: detailUrl(m.from) } }) : ''),
        cell('By', str(m.by)),
        cell('Reason', str(m.reason))
      ]));
    });
    byId('merges-wrap').hidden = merges.length === 0;
    byId('merges-empty').hidden = merges.length !== 0;
  }

  function setupDemographicsForm() {
    var form = byId('demo-form');
    byId('demo-reset').addEventListener('click', function () {
      if (entry) fillDemographics(entry);
      setMessage('demo-message', '');
    });
    form.addEventListener('submit', async function (event) {
      event.preventDefault();
      if (!entry) return;
      var changes = {};
      DEMO_FIELDS.forEach(function (f) {
        var value = byId(f.input).value;
        if (f.input !== 'd-dob' && f.input !== 'd-gender') value = value.trim();
        var before = str(entry[f.key]);
        if (f.key === 'gender') before = before.toUpperCase();
        if (value !== before) changes[f.key] = value;
      });
      if (Object.keys(changes).length === 0) {
        setMessage('demo-message', 'Nothing changed.', '');
        return;
      }
      if ('last_name' in changes || 'first_name' in changes) {
        var last = 'last_name' in changes ? changes.last_name : str(entry.last_name);
        var first = 'first_name' in changes ? changes.first_name : str(entry.first_name);
        if (!last && !first) {
          setMessage('demo-message', 'A patient needs a last name or a first name.', 'error');
          return;
        }
      }
      var submit = byId('demo-submit');
      submit.disabled = true;
      setMessage('demo-message', 'Saving\u2026');
      try {
        await HB.api(apiPath(), { method: 'PUT', body: changes });
        await loadDetail();
        setMessage('demo-message', 'Saved.', 'ok');
      } catch (e) {
        var text = e.status === 409 ? 'Not saved: this national ID belongs to another entry (' + (e.detail || e.message) + ').'
          : 'Not saved: ' + HB.describeError(e);
        setMessage('demo-message', text, 'error');
        if (e.status === 409 || /national/i.test(e.detail || '')) byId('d-national-id').setAttribute('aria-invalid', 'true');
      }
      submit.disabled = !!(entry && entry.merged_into);
    });
  }

  function setupIdentifierForm() {
    byId('id-form').addEventListener('submit', async function (event) {
      event.preventDefault();
      var body = {
        site_id: byId('id-site').value,
        patient_id: byId('id-patient-id').value.trim(),
        issuer: byId('id-issuer').value.trim()
      };
      if (!body.site_id || !body.patient_id) {
        setMessage('id-message', !body.site_id ? 'Choose a site.' : 'Enter the patient ID used at that site.', 'error');
        (body.site_id ? byId('id-patient-id') : byId('id-site')).focus();
        return;
      }
      if (!body.issuer) delete body.issuer;
      var submit = byId('id-submit');
      submit.disabled = true;
      setMessage('id-message', 'Adding\u2026');
      try {
        await HB.api(apiPath('/identifiers'), { method: 'POST', body: body });
        byId('id-patient-id').value = '';
        byId('id-issuer').value = '';
        await loadDetail();
        setMessage('id-message', 'Identifier added.', 'ok');
      } catch (e) {
        setMessage('id-message', (e.status === 409 ? 'Not added: another entry has this identifier (' +
          (e.detail || e.message) + '). Merge the entries instead.' : 'Not added: ' + HB.describeError(e)), 'error');
      }
      submit.disabled = false;
    });
  }

  function summaryLine(label, p) {
    var ids = Array.isArray(p.identifiers) ? p.identifiers.length : 0;
    var studies = Array.isArray(p.studies) ? p.studies.length : 0;
    var parts = [str(p.id)];
    parts.push(p.national_id ? 'national ID ' + str(p.national_id) : 'no national ID');
    if (p.date_of_birth) parts.push('born ' + str(p.date_of_birth));
    parts.push(ids + (ids === 1 ? ' identifier' : ' identifiers'));
    parts.push(studies + (studies === 1 ? ' study here' : ' studies here'));
    return el('p', {}, [
      el('strong', { text: label + ' ' }),
      el('span', { className: 'hb-quote', text: patientName(p) || 'No name' }),
      el('span', { className: 'hb-subtext', text: parts.join(' \u00b7 ') })
    ]);
  }

  function setupMergeForm() {
    byId('merge-form').addEventListener('submit', async function (event) {
      event.preventDefault();
      if (!entry) return;
      var fromInput = byId('merge-from');
      var reasonInput = byId('merge-reason');
      var from = fromInput.value.trim();
      var reason = reasonInput.value.trim();
      fromInput.removeAttribute('aria-invalid');
      reasonInput.removeAttribute('aria-invalid');
      if (!from) {
        setMessage('merge-message', 'Enter the registry ID of the entry to merge into this one.', 'error');
        fromInput.setAttribute('aria-invalid', 'true');
        fromInput.focus();
        return;
      }
      if (from === str(entry.id)) {
        setMessage('merge-message', 'An entry cannot be merged into itself.', 'error');
        fromInput.setAttribute('aria-invalid', 'true');
        fromInput.focus();
        return;
      }
      if (!reason) {
        setMessage('merge-message', 'Give a reason: it is kept in the merge history.', 'error');
        reasonInput.setAttribute('aria-invalid', 'true');
        reasonInput.focus();
        return;
      }
      var submit = byId('merge-submit');
      submit.disabled = true;
      setMessage('merge-message', 'Looking up ' + from + '\u2026');
      var other;
      try {
        other = await HB.api('/bridge/patients/' + encodeURIComponent(from));
      } catch (e) {
        setMessage('merge-message', e.status === 404 ? 'There is no registry entry ' + from + '.'
          : 'Could not read ' + from + ': ' + HB.describeError(e), 'error');
        fromInput.setAttribute('aria-invalid', 'true');
        submit.disabled = false;
        return;
      }
      if (!isObject(other)) other = { id: from };
      if (other.merged_into) {
        setMessage('merge-message', from + ' was already merged into ' + str(other.merged_into) + '.', 'error');
        submit.disabled = false;
        return;
      }
      if (other.national_id && entry.national_id && other.national_id !== entry.national_id) {
        // Two national IDs: two people, or one wrong ID. The server refuses such a merge too.
        setMessage('merge-message', 'Not possible: ' + from + ' has national ID ' + str(other.national_id) +
          ', this entry ' + str(entry.national_id) + '. If they are the same person, correct the wrong national ID first.', 'error');
        submit.disabled = false;
        return;
      }
      setMessage('merge-message', '');
      var confirmed = await HB.confirmDialog({
        title: 'Merge these registry entries?',
        body: [
          summaryLine('Merge', other),
          summaryLine('into', entry),
          el('p', {}, [el('strong', { text: 'Reason: ' }), el('span', { text: reason })]),
          el('p', { className: 'hb-muted', text: 'All identifiers and studies of ' + from +
            ' move to this entry. This cannot be undone from this page.' })
        ],
        confirmLabel: 'Merge',
        danger: true
      });
      if (!confirmed) {
        setMessage('merge-message', 'Not merged.');
        submit.disabled = false;
        return;
      }
      setMessage('merge-message', 'Merging\u2026');
      try {
        await HB.api(apiPath('/merge'), { method: 'POST', body: { from: from, reason: reason } });
        fromInput.value = '';
        reasonInput.value = '';
        await loadDetail();
        setMessage('merge-message', from + ' was merged into this entry.', 'ok');
      } catch (e) {
        setMessage('merge-message', 'Not merged: ' + HB.describeError(e), 'error');
      }
      submit.disabled = false;
    });
  }

  /* =============================================================== consent */

  var CONSENT_KINDS = [
    { key: 'share', label: 'Sharing', help: 'Images may be shared with a link or QR code (for example with the patient or another doctor).' },
    { key: 'federation', label: 'Other hospitals', help: 'Connected hospitals may find and copy this patient\u2019s studies.' },
    { key: 'research', label: 'Research', help: 'Images may be used for research.' }
  ];
  var CONSENT_METHODS = { verbal: 'Verbal', 'signed-form': 'Signed form', attestation: 'Attestation', electronic: 'Electronic' };
  var ATTACHMENT_TYPES = { pdf: 'application/pdf', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg' };
  var MAX_ATTACHMENT = 5 * 1024 * 1024;
  var REPORT_ROLES = ['admin', 'reception'];
  var consents = null;     // the last GET /bridge/patients/{id}/consents
  var consentSeq = 0;

  function kindLabel(kind) {
    for (var i = 0; i < CONSENT_KINDS.length; i++) if (CONSENT_KINDS[i].key === kind) return CONSENT_KINDS[i].label;
    return str(kind);
  }

  function decisionBadge(decision) {
    if (decision === 'permit') return el('span', { className: 'hb-badge hb-badge-ok', text: 'Permitted' });
    if (decision === 'deny') return el('span', { className: 'hb-badge hb-badge-error', text: 'Denied' });
    return el('span', { className: 'hb-badge', text: str(decision) || 'Unknown' });
  }

  function consentDefault(kind) {
    var c = system && isObject(system.consent) && isObject(system.consent.defaults) ? system.consent.defaults : {};
    return str(c[kind] || c[kind.charAt(0).toUpperCase() + kind.slice(1)]);
  }

  function validityText(from, until) {
    from = str(from);
    until = str(until);
    if (from && until) return 'Valid ' + from + ' to ' + until;
    if (until) return 'Valid until ' + until;
    if (from) return 'Valid from ' + from + ', no end date';
    return 'No end date';
  }

  function attachmentUrl(record) {
    return apiPath('/consents/' + encodeURIComponent(str(record.id)) + '/attachment');
  }

  function editableConsent() {
    return !!(entry && !entry.merged_into) || (!entry && !!entryId);
  }

  async function loadConsents() {
    var mine = ++consentSeq;
    showBox('consent-error', '');
    byId('consent-status').textContent = consents ? '' : 'Loading\u2026';
    try {
      var answer = await HB.api(apiPath('/consents'));
      if (mine !== consentSeq) return;
      consents = isObject(answer) ? answer : {};
      renderConsents();
      byId('consent-status').textContent = '';
    } catch (e) {
      if (mine !== consentSeq) return;
      byId('consent-status').textContent = '';
      showBox('consent-error', e.status === 404 && !entry ? 'There is no registry entry ' + entryId + '.'
        : 'Could not load the consent decisions: ' + HB.describeError(e));
    }
  }

  function renderConsents() {
    if (!consents) return;
    var current = isObject(consents.current) ? consents.current : {};
    var history = Array.isArray(consents.history) ? consents.history.filter(isObject) : [];
    var byRecord = {};
    history.forEach(function (r) { byRecord[str(r.id)] = r; });
    var editable = editableConsent();

    var list = HB.clear(byId('consent-current'));
    CONSENT_KINDS.forEach(function (kind) {
      var c = isObject(current[kind.key]) ? current[kind.key] : {};
      var decision = str(c.decision);
      var record = c.record_id !== undefined && c.record_id !== null ? byRecord[str(c.record_id)] : null;
      var source;
      if (c.source === 'record') {
        var how = record ? (CONSENT_METHODS[str(record.method)] || str(record.method)) : '';
        source = 'Recorded' + (how ? ' (' + how.toLowerCase() + ')' : '') +
          (record && record.recorded_at ? ' on ' + HB.formatDateTime(record.recorded_at) : '') +
          (record && record.recorded_by ? ' by ' + str(record.recorded_by) : '');
      } else if (c.source === 'default') {
        var policy = consentDefault(kind.key);
        source = 'No decision recorded: site default' + (policy === 'opt-in' ? ' (opt-in: only with the patient\u2019s agreement)'
          : policy === 'opt-out' ? ' (opt-out: unless the patient refuses)' : (policy ? ' (' + policy + ')' : ''));
      } else {
        source = str(c.source);
      }
      var validity = c.source === 'record' ? validityText(record ? record.valid_from : '', c.valid_until) : '';
      var revoke = null;
      if (editable && decision === 'permit') {
        revoke = el('button', {
          className: 'hb-button hb-button-small hb-no-print', text: 'Revoke\u2026',
          attrs: { type: 'button', title: 'Record that the patient refuses: ' + kind.label.toLowerCase() }
        });
        revoke.addEventListener('click', function () { revokeConsent(kind, revoke); });
      }
      list.appendChild(el('li', { className: 'hb-consent-item hb-consent-' + (decision === 'permit' ? 'permit' : (decision === 'deny' ? 'deny' : 'unknown')) }, [
        el('div', { className: 'hb-consent-head' }, [
          el('span', { className: 'hb-consent-kind', text: kind.label }),
          decision ? decisionBadge(decision) : el('span', { className: 'hb-badge', text: 'Unknown' })
        ]),
        el('p', { className: 'hb-consent-help', text: kind.help }),
        el('p', { className: 'hb-subtext', text: source }),
        validity ? el('p', { className: 'hb-subtext', text: validity }) : null,
        revoke ? el('div', { className: 'hb-consent-actions' }, [revoke]) : null
      ]));
    });

    var body = HB.clear(byId('consent-history-body'));
    var inForce = {};
    CONSENT_KINDS.forEach(function (kind) {
      var c = current[kind.key];
      if (isObject(c) && c.source === 'record' && c.record_id !== undefined && c.record_id !== null) inForce[str(c.record_id)] = true;
    });
    history.forEach(function (r) {
      var recorded = [
        r.recorded_at ? el('time', { className: 'hb-nowrap', text: HB.formatDateTime(r.recorded_at), attrs: { datetime: str(r.recorded_at) } }) : null,
        r.recorded_by ? el('span', { className: 'hb-subtext', text: 'by ' + str(r.recorded_by) }) : null
      ];
      var scan = r.has_attachment && r.id !== undefined && r.id !== null
        ? el('a', { text: 'Open scan', attrs: { href: attachmentUrl(r), target: '_blank', rel: 'noopener' } })
        : '';
      body.appendChild(el('tr', {}, [
        cell('Recorded', recorded.filter(Boolean)),
        cell('Kind', [el('span', { text: kindLabel(str(r.kind)) }), validityChip(r, inForce[str(r.id)])]),
        cell('Decision', decisionBadge(str(r.decision))),
        cell('How', CONSENT_METHODS[str(r.method)] || str(r.method), 'hb-nowrap'),
        cell('Valid', validityText(r.valid_from, r.valid_until)),
        cell('Note', str(r.note)),
        cell('Scan', scan, 'hb-nowrap')
      ]));
    });
    byId('consent-history-wrap').hidden = history.length === 0;
    byId('consent-history-empty').hidden = history.length !== 0;
    byId('consent-form').hidden = !editable;
  }

  function today() {
    var d = new Date();
    return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
  }

  // "in force" for the record that decides now; otherwise why a record does not (yet) count.
  function validityChip(r, current) {
    if (current) return el('span', { className: 'hb-chip hb-chip-local hb-consent-inforce', text: 'in force' });
    var from = str(r.valid_from);
    var until = str(r.valid_until);
    if (from && from > today()) return el('span', { className: 'hb-chip hb-consent-inforce', text: 'not yet valid' });
    if (until && until < today()) return el('span', { className: 'hb-chip hb-consent-inforce', text: 'expired' });
    return null;
  }

  async function revokeConsent(kind, button) {
    var method = el('select', { id: 'revoke-method' });
    ['verbal', 'signed-form', 'electronic', 'attestation'].forEach(function (m) {
      method.appendChild(el('option', { text: CONSENT_METHODS[m], attrs: { value: m } }));
    });
    var note = el('input', { id: 'revoke-note', attrs: { type: 'text', maxlength: '1000', autocomplete: 'off' } });
    var name = entry ? patientName(entry) : '';
    var confirmed = await HB.confirmDialog({
      title: 'Revoke consent: ' + kind.label.toLowerCase() + '?',
      body: [
        el('p', {}, ['Record that ', el('strong', { text: name || entryId }), ' refuses: ', el('em', { text: kind.help })]),
        el('p', { className: 'hb-muted', text: 'The earlier decision stays in the history.' }),
        el('div', { className: 'hb-field' }, [el('label', { text: 'How the patient told you', attrs: { for: 'revoke-method' } }), method]),
        el('div', { className: 'hb-field' }, [el('label', { attrs: { for: 'revoke-note' } }, ['Note ', el('span', { className: 'hb-optional', text: '(optional)' })]), note])
      ],
      confirmLabel: 'Revoke',
      danger: true
    });
    if (!confirmed) return;
    button.disabled = true;
    byId('consent-status').textContent = 'Recording\u2026';
    var body = { kind: kind.key, decision: 'deny', method: method.value };
    if (note.value.trim()) body.note = note.value.trim();
    try {
      await HB.api(apiPath('/consents'), { method: 'POST', body: body });
      await loadConsents();
      byId('consent-status').textContent = kind.label + ': revoked.';
    } catch (e) {
      byId('consent-status').textContent = '';
      showBox('consent-error', 'Not revoked: ' + HB.describeError(e));
      button.disabled = false;
    }
  }

  function readFileBase64(file) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () {
        var text = String(reader.result || '');
        var comma = text.indexOf(',');
        resolve(comma === -1 ? '' : text.slice(comma + 1));
      };
      reader.onerror = function () { reject(reader.error || new Error('The file could not be read.')); };
      reader.readAsDataURL(file);
    });
  }

  function attachmentType(file) {
    var type = str(file.type).toLowerCase();
    if (type === 'image/jpg' || type === 'image/pjpeg') type = 'image/jpeg';
    if (type === 'application/pdf' || type === 'image/png' || type === 'image/jpeg') return type;
    if (!type) {
      var ext = /\.([a-z0-9]+)$/i.exec(str(file.name));
      if (ext && ATTACHMENT_TYPES[ext[1].toLowerCase()]) return ATTACHMENT_TYPES[ext[1].toLowerCase()];
    }
    return '';
  }

  function setupConsentForm() {
    var form = byId('consent-form');
    var fields = ['c-kind', 'c-decision', 'c-method', 'c-from', 'c-until', 'c-file'];
    form.addEventListener('reset', function () {
      fields.forEach(function (f) { byId(f).removeAttribute('aria-invalid'); });
      setMessage('c-message', '');
    });
    byId('c-file').addEventListener('change', function () {
      var file = byId('c-file').files && byId('c-file').files[0];
      byId('c-file').removeAttribute('aria-invalid');
      if (!file) { setMessage('c-message', ''); return; }
      if (file.size > MAX_ATTACHMENT) {
        byId('c-file').setAttribute('aria-invalid', 'true');
        setMessage('c-message', 'The scan is ' + (file.size / 1048576).toFixed(1) + ' MB; at most 5 MB is accepted.', 'error');
      } else if (!attachmentType(file)) {
        byId('c-file').setAttribute('aria-invalid', 'true');
        setMessage('c-message', 'The scan must be a PDF, PNG or JPEG file.', 'error');
      } else {
        setMessage('c-message', '');
      }
    });
    form.addEventListener('submit', async function (event) {
      event.preventDefault();
      fields.forEach(function (f) { byId(f).removeAttribute('aria-invalid'); });
      function fail(field, text) {
        byId(field).setAttribute('aria-invalid', 'true');
        byId(field).focus();
        setMessage('c-message', text, 'error');
      }
      var body = {
        kind: byId('c-kind').value,
        decision: byId('c-decision').value,
        method: byId('c-method').value,
        valid_from: byId('c-from').value,
        valid_until: byId('c-until').value,
        note: byId('c-note').value.trim()
      };
      if (!body.kind) return fail('c-kind', 'Choose what the consent is for.');
      if (!body.decision) return fail('c-decision', 'Choose the patient\u2019s decision.');
      if (!body.method) return fail('c-method', 'Choose how the decision was given.');
      if (body.valid_from && body.valid_until && body.valid_until < body.valid_from) {
        return fail('c-until', '\u201cValid until\u201d is before \u201cValid from\u201d.');
      }
      var file = byId('c-file').files && byId('c-file').files[0];
      if (file) {
        if (file.size > MAX_ATTACHMENT) return fail('c-file', 'The scan is larger than 5 MB. Scan it at a lower resolution or as a PDF.');
        body.attachment_type = attachmentType(file);
        if (!body.attachment_type) return fail('c-file', 'The scan must be a PDF, PNG or JPEG file.');
      }
      ['valid_from', 'valid_until', 'note'].forEach(function (k) { if (!body[k]) delete body[k]; });
      var submit = byId('c-submit');
      submit.disabled = true;
      try {
        if (file) {
          setMessage('c-message', 'Reading the scan\u2026');
          body.attachment = await readFileBase64(file);
        }
        setMessage('c-message', 'Recording\u2026');
        await HB.api(apiPath('/consents'), { method: 'POST', body: body, timeoutMs: 120000 });
        form.reset();
        await loadConsents();
        setMessage('c-message', kindLabel(body.kind) + ': ' + (body.decision === 'permit' ? 'permitted' : 'denied') + ', recorded' +
          (body.valid_from && body.valid_from > today() ? '; it takes effect on ' + body.valid_from + '.' : '.'), 'ok');
      } catch (e) {
        var text = e.status === 413 ? 'Not recorded: the server refused the scan as too large' +
          (e.detail ? ' (' + e.detail + ')' : '') + '. Scan it at a lower resolution, or record the decision without the scan.'
          : 'Not recorded: ' + HB.describeError(e);
        if (e.status === 400 && e.detail) {
          var named = { kind: 'c-kind', decision: 'c-decision', method: 'c-method', valid_from: 'c-from', valid_until: 'c-until', attachment: 'c-file' };
          Object.keys(named).forEach(function (k) { if (e.detail.indexOf(k) !== -1) byId(named[k]).setAttribute('aria-invalid', 'true'); });
        }
        setMessage('c-message', text, 'error');
      }
      submit.disabled = false;
    });
  }

  function showAccessReportLink() {
    var link = byId('d-access-report');
    var role = system && system.user ? str(system.user.role) : '';
    link.hidden = !entryId || REPORT_ROLES.indexOf(role) === -1;
  }

  // Studies whose patient refused (or never gave) federation consent.
  function restrictedBadge(study) {
    if (!isObject(study.restricted) || study.restricted.federation !== true) return null;
    return el('span', {
      className: 'hb-badge hb-badge-warn hb-badge-small hb-restricted',
      text: 'restricted',
      attrs: { title: 'Not shown to other hospitals: no federation consent' }
    });
  }

  function initDetail(id) {
    entryId = id;
    byId('detail-view').hidden = false;
    byId('d-id').textContent = id;
    byId('d-federation').setAttribute('href', '/bridge/app/federation.html?patient_id=' + encodeURIComponent(id));
    byId('d-access-report').setAttribute('href', '/bridge/app/access-report.html?id=' + encodeURIComponent(id));
    setupDemographicsForm();
    setupIdentifierForm();
    setupMergeForm();
    setupConsentForm();
    loadConsents();
    Promise.all([loadSites(), loadDetail()]).then(function (results) {
      if (results[1]) renderDetail(results[1]);   // again, with the site names
    });
  }

  /* ================================================================= start */

  var id = (params.get('id') || '').trim();
  HB.initLayout({ page: 'patients', title: id ? 'Patient ' + id : 'Patients' }).then(function (s) {
    system = s;
    if (id) {
      fillSiteChoice();
      showAccessReportLink();
      renderConsents();   // again, with the site's consent defaults
    }
  }, function (e) {
    showBox(id ? 'detail-error' : 'list-error', 'Could not load the session: ' + HB.describeError(e));
  });
  if (id) initDetail(id);
  else initList();
})();
