/*
 * "Who saw my images": the access report a clerk prints and hands to the patient (?id=PAT-…).
 *   GET /bridge/system                        (layout; hospital name, who prints)
 *   GET /bridge/patients/{id}/access-report   (admin, reception) → {patient, events}
 *   GET /bridge/patients/{id}                 (optional: study descriptions, demographics fallback)
 *   GET /bridge/sites                         (optional: site names for site IDs)
 * Actor names, site names and study descriptions are attacker-controllable: they reach the DOM
 * only via textContent / HB.el. Layout: A4 print (css: .hb-report-page), screen 1366 and phones.
 */
(function () {
  'use strict';

  var el = HB.el;
  var setText = HB.setText;

  var PLAIN_ROLES = {
    admin: 'Administrator',
    radiologist: 'Radiologist',
    technician: 'Radiographer / technician',
    reception: 'Reception staff',
    peer: 'Another hospital'
  };

  var params = new URLSearchParams(window.location.search);
  var patientId = (params.get('id') || '').trim();
  var system = null;
  var sitesById = {};
  var studiesByUid = {};

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
    var box = byId('report-error');
    box.textContent = message || '';
    box.hidden = !message;
  }

  var reportSite = null;   // the access report's own "site", when /bridge/system is not at hand

  function localSite() {
    if (system && isObject(system.site)) return system.site;
    return isObject(reportSite) ? reportSite : {};
  }

  /* -------------------------------------------------------------- wording */

  // What happened, in words a patient understands (the server's own "what" for actions unknown here).
  function plainAction(action, kind, serverWords) {
    action = str(action);
    switch (action) {
      case 'study.viewed': return 'Looked at the images';
      case 'study.downloaded': return 'Downloaded a copy of the images';
      case 'study.exported': return 'Sent a copy of the images out of the image archive';
      case 'study.modified': return 'Changed the image data';
      case 'study.deleted': return 'Deleted the images';
      case 'federation.query.answered': return 'Asked which of your images are kept here';
      case 'federation.query.sent': return 'Searched other hospitals for your images';
      case 'federation.retrieve':
        return kind === 'peer' ? 'Copied the images to another hospital' : 'Copied the images here from another hospital';
      case 'dicom.stored': return 'Images received';
      case 'share.created': return 'Created a link to share the images';
      case 'share.accessed': case 'share.viewed': case 'share.opened': return 'Opened the images with a share link';
      case 'share.downloaded': return 'Downloaded the images with a share link';
      case 'share.revoked': return 'Cancelled a share link';
    }
    if (action.indexOf('share.') === 0) return 'Shared the images';
    if (serverWords && serverWords !== 'other') return serverWords.charAt(0).toUpperCase() + serverWords.slice(1);
    return action || 'Unknown action';
  }

  function plainOutcome(outcome) {
    outcome = str(outcome);
    if (!outcome || outcome === 'success') return '';
    if (outcome === 'denied') return 'Refused: no permission. The images were not shown.';
    if (outcome === 'failure') return 'Did not succeed.';
    return 'Result: ' + outcome;
  }

  // Peer accounts are usually named after their site's ID, in any case ("hos-002" for HOS-002).
  function siteById(id) {
    if (sitesById[id]) return sitesById[id];
    var lower = String(id).toLowerCase();
    var found = null;
    Object.keys(sitesById).forEach(function (k) { if (!found && k.toLowerCase() === lower) found = sitesById[k]; });
    return found;
  }

  // {id, name} | "name or id" → a site name for people.
  function siteName(site) {
    if (isObject(site)) {
      if (site.name) return str(site.name);
      site = site.id;
    }
    site = str(site);
    if (!site) return '';
    var known = siteById(site);
    if (known && known.name) return str(known.name);
    if (localSite().id && site === str(localSite().id)) return str(localSite().name) || site;
    return site;
  }

  function who(ev) {
    var actor = isObject(ev.actor) ? ev.actor : { name: str(ev.actor) };
    var kind = str(actor.kind);
    var role = str(actor.role) || (kind === 'peer' ? 'peer' : '');
    var site = siteName(actor.site) || siteName(actor.site_name) || siteName(actor.site_id) ||
      siteName(ev.site) || siteName(ev.site_name) || siteName(ev.site_id);
    var name = str(actor.name);
    if (kind === 'peer' && !site && siteById(name)) site = siteName(name);
    if (!site && (kind === 'user' || kind === '' || kind === 'system')) site = str(localSite().name);
    var lines = [];
    if (kind === 'share') {
      lines.push(el('span', { className: 'hb-strong', text: 'Someone with a share link' }));
      if (name) lines.push(el('span', { className: 'hb-subtext', text: name }));
    } else if (kind === 'peer') {
      lines.push(el('span', { className: 'hb-strong', text: site || name || 'Another hospital' }));
      lines.push(el('span', { className: 'hb-subtext', text: 'Another hospital' + (site && name && name !== site ? ' (' + name + ')' : '') }));
      return lines;
    } else if (kind === 'system') {
      lines.push(el('span', { className: 'hb-strong', text: 'The hospital\u2019s system (automatic)' }));
    } else {
      lines.push(el('span', { className: 'hb-strong', text: name || 'Unknown person' }));
    }
    var meta = [];
    if (role && kind !== 'share' && kind !== 'system') meta.push(PLAIN_ROLES[role] || HB.roleLabel(role));
    if (site) meta.push(site);
    if (meta.length) lines.push(el('span', { className: 'hb-subtext', text: meta.join(', ') }));
    return lines;
  }

  // Local date, then time, on two lines.
  function whenNode(iso) {
    var d = new Date(iso);
    if (!iso || isNaN(d.getTime())) return el('span', { text: str(iso) || '\u2014' });
    return el('time', { attrs: { datetime: str(iso) } }, [
      el('span', { className: 'hb-nowrap', text: d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' }) }),
      el('span', { className: 'hb-subtext', text: d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) })
    ]);
  }

  function whichStudy(ev) {
    var study = isObject(ev.study) ? ev.study : {};
    var uid = str(study.study_uid) || str(ev.study_uid) || (typeof ev.study === 'string' ? ev.study : '');
    var known = studiesByUid[uid] || {};
    var description = str(study.description) || str(ev.study_description) || str(known.description);
    var date = str(study.study_date) || str(study.date) || str(ev.study_date) || str(known.study_date);
    var modalities = study.modalities || ev.modalities || known.modalities;
    modalities = Array.isArray(modalities) ? modalities.filter(Boolean).map(str).join(', ') : str(study.modality || modalities || '');
    // "CT — Chest"; no "MR — MR Knee" when the description already names the modality.
    var named = modalities && description && modalities.split(', ').every(function (m) {
      return (' ' + description.toUpperCase() + ' ').indexOf(' ' + m.toUpperCase() + ' ') !== -1;
    });
    var head = named ? description : [modalities, description].filter(Boolean).join(' \u2014 ');
    var lines = [];
    if (head) lines.push(el('span', { text: head }));
    if (date) lines.push(el('span', { className: head ? 'hb-subtext' : '', text: 'Taken on ' + date }));
    // The UID means nothing to a patient: only when nothing else identifies the study.
    if (uid && !head && !date) lines.push(el('span', { className: 'hb-subtext hb-id hb-uid', text: 'Study ' + uid }));
    if (!lines.length) lines.push(el('span', { className: 'hb-muted', text: 'All images of the patient' }));
    return lines;
  }

  function cell(label, content, className) {
    var td = el('td', { className: className || '', attrs: { 'data-label': label } });
    td.appendChild(el('div', { className: 'hb-cell' }, content));
    return td;
  }

  /* -------------------------------------------------------------- render */

  function renderPatient(reportPatient, record) {
    var p = isObject(reportPatient) ? reportPatient : {};
    var r = isObject(record) ? record : {};
    var name = HB.formatRegistryName(p.first_name || r.first_name, p.last_name || r.last_name);
    if (!name && p.name) name = str(p.name).indexOf('^') !== -1 ? HB.formatPatientName(p.name) : str(p.name);
    setText('r-name', name);
    setText('r-national-id', str(p.national_id) || str(r.national_id) || 'None recorded');
    setText('r-dob', str(p.date_of_birth) || str(r.date_of_birth));
    setText('r-id', str(p.id) || str(r.id) || patientId);
    // Printed atop the table on every page, so a loose page still says whose report it is.
    var nid = str(p.national_id) || str(r.national_id);
    byId('r-repeat').textContent = 'Access report \u00b7 ' + (name || str(p.id) || patientId) +
      (nid ? ' \u00b7 national ID ' + nid : '') + ' \u00b7 ' + (str(localSite().name) || 'this hospital');
    return name;
  }

  function renderEvents(events) {
    var body = HB.clear(byId('r-body'));
    var sorted = events.map(function (ev, i) { return { ev: ev, i: i }; });
    sorted.sort(function (a, b) {
      var ta = str(a.ev.time);
      var tb = str(b.ev.time);
      return ta === tb ? a.i - b.i : (ta < tb ? 1 : -1);
    });
    sorted.forEach(function (x) {
      var ev = x.ev;
      var actor = isObject(ev.actor) ? ev.actor : {};
      var what = [el('span', { text: plainAction(ev.action, str(actor.kind), str(ev.what)) })];
      var outcome = plainOutcome(ev.outcome);
      if (outcome) what.push(el('span', { className: 'hb-subtext hb-report-refused', text: outcome }));
      body.appendChild(el('tr', { className: outcome ? 'hb-row-warn' : '' }, [
        cell('Date and time', whenNode(ev.time)),
        cell('Who', who(ev)),
        cell('What', what),
        cell('Which study', whichStudy(ev))
      ]));
    });
    byId('r-wrap').hidden = events.length === 0;
    byId('r-empty').hidden = events.length !== 0;
    byId('r-count').textContent = events.length === 0 ? '' :
      HB.formatNumber(events.length) + (events.length === 1 ? ' access is' : ' accesses are') + ' listed, newest first.';
  }

  function renderHeader() {
    var site = localSite();
    var hospital = str(site.name) || 'This hospital';
    byId('r-hospital').textContent = hospital;
    byId('r-intro').textContent = 'This report lists every time someone looked at, downloaded, exported, shared or ' +
      'retrieved your medical images held at ' + hospital + ', as recorded in the hospital\u2019s audit trail.';
    var now = new Date();
    setText('r-printed', now.toLocaleDateString(undefined, { year: 'numeric', month: 'long', day: 'numeric' }));
    var user = system && isObject(system.user) ? str(system.user.username) : '';
    byId('r-printed-by').textContent = 'Prepared ' + now.toLocaleString(undefined, {
      year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit'
    }) + (user ? ' by ' + user : '') + ' \u00b7 ' + hospital + (site.id ? ' (' + str(site.id) + ')' : '');
  }

  function optional(promise) {
    return promise.then(function (v) { return v; }, function () { return null; });
  }

  async function load() {
    var path = '/bridge/patients/' + encodeURIComponent(patientId);
    var layout = HB.initLayout({ page: 'patients', title: 'Access report ' + patientId });
    var results;
    try {
      results = await Promise.all([
        HB.api(path + '/access-report', { timeoutMs: 60000 }),
        optional(HB.api(path)),
        optional(HB.api('/bridge/sites')),
        layout.then(function (s) { system = s; return s; }, function () { return null; })
      ]);
    } catch (e) {
      byId('report-loading').hidden = true;
      if (e.status === 403) showError('Only administrators and reception staff can print access reports.');
      else if (e.status === 404) showError('There is no registry entry ' + patientId + ' (or access reports are not available at this site).');
      else showError('Could not load the access report: ' + HB.describeError(e));
      return;
    }
    var report = isObject(results[0]) ? results[0] : {};
    reportSite = report.site;
    var record = isObject(results[1]) ? results[1] : null;
    var sites = results[2] && Array.isArray(results[2].sites) ? results[2].sites.filter(isObject) : [];
    sites.forEach(function (s) { sitesById[str(s.id)] = s; });
    if (record && Array.isArray(record.studies)) {
      record.studies.filter(isObject).forEach(function (s) { studiesByUid[str(s.study_uid)] = s; });
    }
    renderHeader();
    var name = renderPatient(report.patient, record);
    renderEvents(Array.isArray(report.events) ? report.events.filter(isObject) : []);
    document.title = 'Access report' + (name ? ' \u2014 ' + name : '') + (localSite().name ? ' \u2014 ' + str(localSite().name) : '');
    byId('report-loading').hidden = true;
    byId('report').hidden = false;
    byId('print-button').disabled = false;
  }

  byId('print-button').addEventListener('click', function () { window.print(); });

  if (!patientId) {
    HB.initLayout({ page: 'patients', title: 'Access report' }).catch(function () { /* shown below */ });
    byId('report-loading').hidden = true;
    showError('No patient chosen: open the report from a patient\u2019s record.');
  } else {
    HB.setAttr(byId('back-link'), 'href', '/bridge/app/patients.html?id=' + encodeURIComponent(patientId));
    load();
  }
})();
