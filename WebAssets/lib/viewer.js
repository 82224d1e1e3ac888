/*
 * "Open in viewer": links to the diagnostic viewer (OHIF, /bridge/viewer/) for a study
 * held here, shown only to those who may open it (GET /bridge/viewer/status says: the
 * viewer's roles, and its files installed).
 *
 *   const may = await viewerAvailable();           // once per page, false on any error
 *   if (may) row.appendChild(viewerLink(study.study_uid));
 */
import { api } from './api.js';
import { el } from './dom.js';
import { t } from './i18n.js';

let status = null;

export function viewerAvailable() {
  if (!status) {
    status = api('/bridge/viewer/status', { auth: false })
      .then(function (answer) { return !!(answer && answer.may_open === true); })
      .catch(function () { return false; });
  }
  return status;
}

// The viewer's address for one study (StudyInstanceUID), or '' for a value that is not one.
export function viewerUrl(studyUid) {
  const uid = String(studyUid || '');
  if (!/^[0-9.]{1,64}$/.test(uid)) return '';
  return '/bridge/viewer/viewer?StudyInstanceUIDs=' + encodeURIComponent(uid);
}

// A small button-link opening the study in the viewer in a new tab (null without a UID).
export function viewerLink(studyUid) {
  const href = viewerUrl(studyUid);
  if (!href) return null;
  return el('a', {
    className: 'hb-button hb-button-small hb-viewer-link',
    text: t('viewer.open'),
    attrs: { href: href, target: '_blank', rel: 'noopener', title: t('viewer.openTitle') }
  });
}
