/*
 * HospitalBridge extension of Orthanc Explorer (Orthanc 1.10.1: jQuery 1.7 + jQuery Mobile 1.1).
 * Given to OrthancPluginExtendOrthancExplorer; Orthanc serves it at /plugins/explorer.js, which
 * explorer.html loads after its own scripts. Adds:
 *   - on #lookup: a "HospitalBridge" button back to the staff pages (id hospitalbridge-link);
 *   - on #patient: a "Federation lookup" button (id hospitalbridge-federation) opening
 *     ../bridge/app/federation.html?local_patient_id=<PatientID>, read from GET ../patients/<uuid>;
 *   - on #study: an "Audit trail" button (id hospitalbridge-audit) opening
 *     ../bridge/app/audit.html?study_uid=<StudyInstanceUID>, read from GET ../studies/<uuid>
 *     (disabled until that answer came; stays disabled when the UID cannot be read);
 *   - on #study: the study's order (id hospitalbridge-order): accession number, status and
 *     procedure, read from GET ../bridge/studies/<StudyInstanceUID>, linking to the Orders page;
 *   - on #study: a "Share (QR)" button (id hospitalbridge-share) opening, in a new tab,
 *     ../bridge/app/reception.html#share=<study uuid>: the reception page's dialog that makes a
 *     share link for the patient and prints its slip with the QR code;
 *   - on #study: an "Open in viewer" button (id hospitalbridge-viewer) opening, in a new tab,
 *     ../bridge/viewer/viewer?StudyInstanceUIDs=<StudyInstanceUID> (the diagnostic viewer), shown
 *     only when GET ../bridge/viewer/status says this user may open it.
 * DICOM values are attacker-controllable: they reach the DOM only through .attr() (URL-encoded)
 * and .text(); no HTML string is ever built from data. Nothing leaks into the global scope, and
 * nothing runs (nor fails) when jQuery or jQuery Mobile is missing.
 */
(function () {
  'use strict';

  var $ = window.jQuery;
  if (typeof $ !== 'function') return;

  var APP = '../bridge/app/';
  var LINK_ID = 'hospitalbridge-link';
  var FEDERATION_ID = 'hospitalbridge-federation';
  var AUDIT_ID = 'hospitalbridge-audit';
  var SHARE_ID = 'hospitalbridge-share';
  var VIEWER_ID = 'hospitalbridge-viewer';
  var VIEWER = '../bridge/viewer/';
  var STUDY_UID = /^[0-9.]{1,64}$/;
  var viewerStatus = null;   // one request per page load: may this user open the viewer?
  var ORDER_ID = 'hospitalbridge-order';
  var UUID = /^[0-9a-f]{8}(-[0-9a-f]{8}){4}$/i;   // Orthanc resource identifiers
  var patientRequest = 0;
  var studyRequest = 0;

  // Binds a handler to a jQuery Mobile page event, whatever this jQuery offers.
  function onPage(selector, eventName, handler) {
    if (typeof $.fn.on === 'function') {
      $(document).on(eventName, selector, handler);
    } else if (typeof $.fn.live === 'function') {
      $(selector).live(eventName, handler);
    } else if (typeof $.fn.delegate === 'function') {
      $(document).delegate(selector, eventName, handler);
    }
  }

  // <a data-role="button"> built with .attr()/.text() only; enhanced when jQuery Mobile is there.
  function makeButton(id, href, label, icon) {
    var link = $('<a></a>')
      .attr('id', id)
      .attr('href', href)
      .attr('data-role', 'button')
      .attr('data-icon', icon)
      .attr('rel', 'external')
      .text(label);
    return link;
  }

  function enhance(link) {
    if (typeof link.button === 'function') {
      try { link.button(); } catch (e) { /* not a jQuery Mobile page yet: left plain */ }
    }
  }

  function pageContent(pageSelector) {
    var content = $(pageSelector).find('[data-role=content]').first();
    return content.length ? content : $(pageSelector).first();
  }

  /* ----------------------------------------------- #lookup: back to HospitalBridge */

  function addHomeLink() {
    if ($('#' + LINK_ID).length !== 0 || $('#lookup').length === 0) return;
    var link = makeButton(LINK_ID, APP, 'HospitalBridge', 'home');
    pageContent('#lookup').prepend(link);
    enhance(link);
  }

  /* ------------------------------------------ #patient: federation lookup button */

  // The shown resource's Orthanc ID: jqm.page.params' $.mobile.pageData, or the hash "#<page>?uuid=...".
  function currentPatientUuid() {
    var data = $.mobile && $.mobile.pageData;
    if (data && typeof data.uuid === 'string' && UUID.test(data.uuid)) return data.uuid;
    var hash = String(window.location.hash || '');
    var query = hash.indexOf('?') === -1 ? '' : hash.substring(hash.indexOf('?') + 1);
    var parts = query.split('&');
    for (var i = 0; i < parts.length; i++) {
      var pair = parts[i].split('=');
      if (pair[0] === 'uuid' && pair.length > 1) {
        var value;
        try { value = decodeURIComponent(pair[1]); } catch (e) { return ''; }
        return UUID.test(value) ? value : '';
      }
    }
    return '';
  }

  function federationButton() {
    var link = $('#' + FEDERATION_ID);
    if (link.length !== 0) return link;
    link = makeButton(FEDERATION_ID, APP + 'federation.html', 'Federation lookup', 'search');
    // Above the patient's details in the left column (Explorer refreshes only the lists inside it).
    var info = $('#patient-info');
    if (info.length) info.before(link);
    else pageContent('#patient').prepend(link);
    enhance(link);
    return link;
  }

  function setFederationTarget(link, patientId) {
    if (patientId) {
      link.attr('href', APP + 'federation.html?local_patient_id=' + encodeURIComponent(patientId));
      link.removeAttr('aria-disabled').removeClass('ui-disabled');
      link.attr('title', 'Search every connected hospital for this patient\'s studies');
    } else {
      // No PatientID (or not readable): the button opens the empty search form.
      link.attr('href', APP + 'federation.html');
      link.removeAttr('aria-disabled').removeClass('ui-disabled');
      link.attr('title', 'Open the federation search');
    }
  }

  function onPatientPage() {
    if ($('#patient').length === 0) return;
    var link = federationButton();
    // Until this patient's ID is known, the button must not point at the previous patient.
    link.attr('href', APP + 'federation.html').attr('aria-disabled', 'true').addClass('ui-disabled');
    var uuid = currentPatientUuid();
    var request = ++patientRequest;
    if (!uuid || typeof $.ajax !== 'function') {
      setFederationTarget(link, '');
      return;
    }
    $.ajax({
      url: '../patients/' + encodeURIComponent(uuid),
      dataType: 'json',
      cache: false,
      success: function (patient) {
        if (request !== patientRequest) return;   // another patient was opened meanwhile
        var tags = patient && patient.MainDicomTags;
        var id = tags && typeof tags.PatientID === 'string' ? tags.PatientID : '';
        setFederationTarget(link, id);
      },
      error: function () {
        if (request !== patientRequest) return;
        setFederationTarget(link, '');
      }
    });
  }

  /* ---------------------------------------------------- #study: audit trail button */

  function auditButton() {
    var link = $('#' + AUDIT_ID);
    if (link.length !== 0) return link;
    link = makeButton(AUDIT_ID, APP + 'audit.html', 'Audit trail', 'info');
    // Above the study's details in the left column, like the patient page's federation button.
    var info = $('#study-info');
    if (info.length) info.before(link);
    else pageContent('#study').prepend(link);
    enhance(link);
    return link;
  }

  function disableAudit(link, title) {
    link.attr('href', APP + 'audit.html').attr('aria-disabled', 'true').addClass('ui-disabled');
    link.attr('title', title);
  }

  // The signed-in role, asked once: the audit trail is for administrators, others do not see the button.
  var roleRequest = null;
  function whenRoleKnown(callback) {
    if (!roleRequest && typeof $.ajax === 'function') {
      roleRequest = $.ajax({ url: '../bridge/me', dataType: 'json', cache: false });
    }
    if (roleRequest && typeof roleRequest.done === 'function') {
      roleRequest.done(function (me) { callback(me && typeof me.role === 'string' ? me.role : ''); });
    }
  }

  function onStudyPage() {
    if ($('#study').length === 0) return;
    var link = auditButton();
    whenRoleKnown(function (role) {
      if (role && role !== 'admin') link.hide();
    });
    // Until this study's UID is known, the button must not point at the previous study.
    disableAudit(link, 'Loading\u2026');
    var viewer = viewerButton();
    viewer.attr('href', VIEWER).attr('aria-disabled', 'true').addClass('ui-disabled');
    whenViewerKnown(function (may) {
      if (!may) viewer.hide();
    });
    var uuid = currentPatientUuid();
    var request = ++studyRequest;
    if (!uuid || typeof $.ajax !== 'function') {
      disableAudit(link, 'The study could not be identified');
      return;
    }
    $.ajax({
      url: '../studies/' + encodeURIComponent(uuid),
      dataType: 'json',
      cache: false,
      success: function (study) {
        if (request !== studyRequest) return;   // another study was opened meanwhile
        var tags = study && study.MainDicomTags;
        var uid = tags && typeof tags.StudyInstanceUID === 'string' ? tags.StudyInstanceUID : '';
        if (!uid) {
          disableAudit(link, 'This study has no Study Instance UID');
          return;
        }
        link.attr('href', APP + 'audit.html?study_uid=' + encodeURIComponent(uid));
        link.removeAttr('aria-disabled').removeClass('ui-disabled');
        if (STUDY_UID.test(uid)) {
          viewer.attr('href', VIEWER + 'viewer?StudyInstanceUIDs=' + encodeURIComponent(uid));
          viewer.removeAttr('aria-disabled').removeClass('ui-disabled');
          viewer.attr('title', 'Open this study in the diagnostic viewer (opens a new tab)');
        }
        link.attr('title', 'Who viewed, downloaded, changed or sent this study (administrators)');
        showOrder(uid, request);
      },
      error: function () {
        if (request !== studyRequest) return;
        disableAudit(link, 'The study could not be read');
      }
    });
  }

  /* ------------------------------------------------------ #study: viewer button */

  function viewerButton() {
    var link = $('#' + VIEWER_ID);
    if (link.length !== 0) return link;
    link = makeButton(VIEWER_ID, VIEWER, 'Open in viewer', 'arrow-r');
    link.attr('target', '_blank').attr('rel', 'external noopener');
    var info = $('#study-info');
    if (info.length) info.before(link);
    else pageContent('#study').prepend(link);
    enhance(link);
    return link;
  }

  function whenViewerKnown(callback) {
    if (!viewerStatus) {
      viewerStatus = $.Deferred();
      $.ajax({
        url: VIEWER + 'status',
        dataType: 'json',
        cache: false,
        success: function (answer) { viewerStatus.resolve(!!(answer && answer.may_open === true)); },
        error: function () { viewerStatus.resolve(false); }
      });
    }
    viewerStatus.done(callback);
  }

  /* -------------------------------------------------------------- #study: its order */

  function orderLine() {
    var line = $('#' + ORDER_ID);
    if (line.length !== 0) return line;
    line = $('<p></p>').attr('id', ORDER_ID);
    var info = $('#study-info');
    if (info.length) info.before(line);
    else pageContent('#study').prepend(line);
    return line;
  }

  // "Order 202611270001 · completed · CT chest", or that the study has none.
  function showOrder(uid, request) {
    var line = orderLine().text('Order: \u2026');
    $.ajax({
      url: '../bridge/studies/' + encodeURIComponent(uid),
      dataType: 'json',
      cache: false,
      success: function (study) {
        if (request !== studyRequest) return;
        var order = study && study.order && typeof study.order === 'object' ? study.order : null;
        line.empty();
        if (!order) {
          line.text('Order: none (see Orders \u203a Studies without an order)');
          return;
        }
        var parts = ['Order', String(order.accession_number || ''), '\u00b7', String(order.status || '')];
        if (order.procedure) parts.push('\u00b7', String(order.procedure));
        var link = $('<a></a>').attr('href', APP + 'orders.html').attr('rel', 'external').text(parts.join(' '));
        line.append(link);
      },
      error: function () {
        if (request !== studyRequest) return;
        line.text('');
      }
    });
  }

  /* ------------------------------------------------------ #study: share (QR) button */

  function shareButton() {
    var link = $('#' + SHARE_ID);
    if (link.length !== 0) return link;
    link = makeButton(SHARE_ID, APP + 'reception.html', 'Share (QR)', 'forward');
    link.attr('target', '_blank').attr('rel', 'external noopener');
    // Next to the audit trail button, above the study's details.
    var info = $('#study-info');
    if (info.length) info.before(link);
    else pageContent('#study').prepend(link);
    enhance(link);
    return link;
  }

  function onStudyPageShare() {
    if ($('#study').length === 0) return;
    var link = shareButton();
    // The study's Orthanc ID is in the page address: no request needed, and never the previous study.
    var uuid = currentPatientUuid();
    if (uuid) {
      link.attr('href', APP + 'reception.html#share=' + encodeURIComponent(uuid));
      link.removeAttr('aria-disabled').removeClass('ui-disabled');
      link.attr('title', 'Make a link for the patient\'s phone and print its slip with a QR code (opens a new tab)');
    } else {
      link.attr('href', APP + 'reception.html').attr('aria-disabled', 'true').addClass('ui-disabled');
      link.attr('title', 'The study could not be identified');
    }
  }

  onPage('#lookup', 'pagebeforeshow', addHomeLink);
  onPage('#patient', 'pagebeforeshow', onPatientPage);
  onPage('#study', 'pagebeforeshow', onStudyPage);
  onPage('#study', 'pagebeforeshow', onStudyPageShare);
})();
