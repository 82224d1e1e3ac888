/*
 * HospitalBridge: the diagnostic viewer's boot script, served as
 * /bridge/viewer/hb-viewer-boot.js before OHIF's own scripts (index.html as the
 * plugin serves it). OHIF's index.html did this in inline scripts, which the
 * viewer's Content-Security-Policy does not allow:
 *  - PUBLIC_URL: where the app is served ("/bridge/viewer/"), read from this
 *    script's own address; OHIF and its webpack runtime load their files from it;
 *  - browserImportFunction: OHIF's dynamic import of a few files it names by a
 *    root path ("/dicom-microscopy-viewer/..."), moved under PUBLIC_URL.
 * A classic script on purpose: it must run before the others.
 */
(function () {
  'use strict';
  var base = new URL('.', document.currentScript.src).pathname;
  window.PUBLIC_URL = base;
  window.browserImportFunction = function (module) {
    var url = module;
    if (typeof module === 'string' && module.charAt(0) === '/' && module.indexOf(base) !== 0) {
      url = base + module.slice(1);
    }
    return import(url);
  };
})();
