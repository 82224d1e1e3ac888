/*
 * HospitalBridge extension of Orthanc Explorer (Orthanc 1.10.1: jQuery 1.7 + jQuery Mobile 1.1).
 * Given to OrthancPluginExtendOrthancExplorer; Orthanc serves it at /plugins/explorer.js, which
 * explorer.html loads after its own scripts. Adds:
 *   - on #lookup: a "HospitalBridge" button back to the staff pages (id hospitalbridge-link);
 *   - on #patient: a "Federation lookup" button (id hospitalbridge-federation) opening
 *     ../bridge/app/federation.html?local_patient_id=<PatientID>, read from GET ../patients/<uuid>.
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
  var UUID = /^[0-9a-f]{8}(-[0-9a-f]{8}){4}$/i;   // Orthanc resource identifiers
  var patientRequest = 0;

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

  // The patient's Orthanc ID: jqm.page.params' $.mobile.pageData, or the hash "#patient?uuid=...".
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

  onPage('#lookup', 'pagebeforeshow', addHomeLink);
  onPage('#patient', 'pagebeforeshow', onPatientPage);
})();
