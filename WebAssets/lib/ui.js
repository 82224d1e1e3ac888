/*
 * Pieces the staff pages share: alert boxes, form messages, table cells for the phone
 * layout, badges, dialogs. Everything goes through el() (text only, see lib/dom.js).
 */
import { el, appendChildren } from './dom.js';
import { t } from './i18n.js';

function node(target) {
  return typeof target === 'string' ? document.getElementById(target) : target;
}

// An alert box (by id or node): the message as its text, hidden when there is none.
export function showAlert(target, message) {
  const box = node(target);
  box.textContent = message || '';
  box.hidden = !message;
}

// A form's status line: "hb-form-message" with an optional tone ("error", "ok").
export function setMessage(target, text, tone) {
  const line = node(target);
  line.textContent = text || '';
  line.className = 'hb-form-message' + (tone ? ' hb-form-message-' + tone : '');
}

function isEmpty(content) {
  if (content === undefined || content === null || content === '') return true;
  return Array.isArray(content) && content.filter(function (c) { return c !== null && c !== undefined && c !== false && c !== ''; }).length === 0;
}

/*
 * A table cell that carries its column's name (data-label: on phones a row becomes a card
 * of label/value pairs). Empty content shows a muted dash. The content is wrapped in a
 * div.hb-cell unless options.bare; options.always keeps even empty content (no dash).
 */
export function cell(label, content, className, options) {
  options = options || {};
  const td = el('td', { className: className || '', attrs: { 'data-label': label } });
  if (isEmpty(content) && !options.always) {
    td.appendChild(el('span', { className: 'hb-muted', text: '\u2014' }));
  } else if (options.bare) {
    appendChildren(td, content);
  } else {
    td.appendChild(el('div', { className: 'hb-cell' }, content));
  }
  return td;
}

// A badge; tone "ok", "warn", "error", "info" or none; options.small, options.title.
export function badge(text, tone, options) {
  options = options || {};
  return el('span', {
    className: 'hb-badge' + (options.small ? ' hb-badge-small' : '') + (tone ? ' hb-badge-' + tone : ''),
    text: text,
    attrs: { title: options.title || null }
  });
}

// Studies whose patient refused (or never gave) federation consent; an absent field shows nothing.
export function restrictedBadge(study) {
  const r = study && study.restricted;
  if (!r || typeof r !== 'object' || r.federation !== true) return null;
  return el('span', {
    className: 'hb-badge hb-badge-warn hb-badge-small hb-restricted',
    text: t('common.restricted'),
    attrs: { title: t('common.restrictedTitle') }
  });
}

export function openDialog(dialog) {
  if (typeof dialog.showModal === 'function') {
    if (!dialog.open) dialog.showModal();
  } else {
    dialog.setAttribute('open', '');
  }
}

export function closeDialog(dialog) {
  if (typeof dialog.close === 'function') {
    if (dialog.open) dialog.close();
  } else {
    dialog.removeAttribute('open');
  }
}

/*
 * A modal confirmation (a <dialog>, so no inline script or style is needed).
 * options: title, body (strings or nodes, as for el()), confirmLabel, cancelLabel, danger.
 * Resolves true when confirmed, false otherwise. Falls back to window.confirm (plain text).
 */
export function confirmDialog(options) {
  options = options || {};
  const dialog = document.createElement('dialog');
  if (typeof dialog.showModal !== 'function') {
    const lines = [options.title || ''];
    (Array.isArray(options.body) ? options.body : [options.body]).forEach(function (part) {
      if (part === undefined || part === null || part === false) return;
      lines.push(typeof part === 'string' ? part : (part.textContent || ''));
    });
    return Promise.resolve(window.confirm(lines.join('\n')));
  }
  dialog.className = 'hb-dialog';
  const titleId = 'hb-dialog-title-' + Date.now();
  dialog.setAttribute('aria-labelledby', titleId);
  const cancel = el('button', { className: 'hb-button', text: options.cancelLabel || t('common.cancel'), attrs: { type: 'button' } });
  const confirm = el('button', {
    className: 'hb-button ' + (options.danger ? 'hb-button-danger' : 'hb-button-primary'),
    text: options.confirmLabel || t('common.ok'), attrs: { type: 'button' }
  });
  appendChildren(dialog, [
    el('h2', { className: 'hb-dialog-title', id: titleId, text: options.title || t('common.pleaseConfirm') }),
    el('div', { className: 'hb-dialog-body' }, options.body),
    el('div', { className: 'hb-dialog-actions' }, [cancel, confirm])
  ]);
  document.body.appendChild(dialog);
  return new Promise(function (resolve) {
    let answered = false;
    function finish(value) {
      if (answered) return;
      answered = true;
      if (dialog.open) dialog.close();
      if (dialog.parentNode) dialog.parentNode.removeChild(dialog);
      resolve(value);
    }
    cancel.addEventListener('click', function () { finish(false); });
    confirm.addEventListener('click', function () { finish(true); });
    dialog.addEventListener('cancel', function () { finish(false); });   // Escape
    dialog.addEventListener('close', function () { finish(false); });
    dialog.showModal();
    cancel.focus();
  });
}
