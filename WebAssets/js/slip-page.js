/*
 * The reception slip page (GET /bridge/shares/<id>/slip, Resources/Templates/slip.html).
 *   - "Print" prints; after printing (afterprint), or with "Mark as printed", it sends
 *     POST /bridge/shares/<id>/printed: the server then forgets the token and the PIN, and
 *     a new slip needs "Reprint" on the reception page.
 *   - The A6 / receipt links reload the page with ?format=a6|receipt.
 *   - On a receipt roll the page is as long as the slip (an @page rule set here through the
 *     CSSOM: the strict CSP forbids inline styles, not the CSSOM).
 *   - Opened as ".../slip#print" (the reception page does), it prints at once.
 * Loaded as a module by the slip template (Resources/Templates/slip.html). No layout, no header: a sheet of paper.
 */
import { request } from '../lib/http.js';
import { byId, el, clear, appendChildren } from '../lib/dom.js';
import { formatPersonName } from '../lib/format.js';
import { t } from '../lib/i18n.js';

const body = document.body;
const shareId = body.getAttribute('data-share-id') || '';
const format = body.getAttribute('data-format') === 'receipt' ? 'receipt' : 'a6';
const printButton = byId('slip-print');
const markButton = byId('slip-mark');
const status = byId('slip-status');
let marked = false;
let marking = false;
let printing = false;

function setStatus(text, tone, link) {
  clear(status);
  appendChildren(status, [text, link ? ' ' : null, link ? el('a', {
    text: link.text, attrs: { href: link.href, target: link.newTab ? '_blank' : null, rel: link.newTab ? 'noopener' : null }
  }) : null]);
  status.className = 'slip-status' + (tone ? ' slip-status-' + tone : '');
}

/* ------------------------------------------------------------- paper format */

function markCurrentFormat() {
  ['a6', 'receipt'].forEach(function (name) {
    const link = byId('slip-format-' + name);
    if (!link) return;
    if (name === format) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  });
}

let receiptRule = null;   // the @page rule inserted for the receipt's length

function slipSheet() {
  for (let i = 0; i < document.styleSheets.length; i++) {
    const sheet = document.styleSheets[i];
    if (sheet.href && /\/slip\.css(\?|$)/.test(sheet.href)) return sheet;
  }
  return null;
}

// 80 mm wide and exactly as long as the slip, so the roll is not fed for nothing.
function fitReceipt() {
  if (format !== 'receipt') return;
  const sheetNode = document.querySelector('.slip-sheet');
  const css = slipSheet();
  if (!sheetNode || !css) return;
  let heightMm = Math.ceil(sheetNode.getBoundingClientRect().height * 25.4 / 96) + 2;
  heightMm = Math.max(60, Math.min(600, heightMm));
  try {
    if (receiptRule) {
      for (let i = css.cssRules.length - 1; i >= 0; i--) {
        if (css.cssRules[i] === receiptRule) { css.deleteRule(i); break; }
      }
    }
    const index = css.insertRule('@page slip-receipt { size: 80mm ' + heightMm + 'mm; margin: 0; }', css.cssRules.length);
    receiptRule = css.cssRules[index];
  } catch (e) {
    receiptRule = null;   // the 200 mm default of slip.css stays
  }
}

/* ----------------------------------------------------------------- printed */

async function markPrinted() {
  if (marked || marking) return;
  if (!/^[0-9]+$/.test(shareId)) {
    setStatus(t('slip.noNumber'), 'error');
    return;
  }
  marking = true;
  markButton.disabled = true;
  let answer;
  try {
    answer = await request('/bridge/shares/' + encodeURIComponent(shareId) + '/printed', { method: 'POST' });
  } catch (e) {
    marking = false;
    markButton.disabled = false;
    setStatus(t('slip.unreachable'), 'error');
    return;
  }
  marking = false;
  if (answer.ok || answer.status === 410) {
    marked = true;
    body.classList.add('slip-is-printed');
    markButton.textContent = t('slip.marked');
    setStatus(t('slip.printed'), 'ok', { href: '/bridge/app/reception.html', text: t('slip.receptionPage') });
    return;
  }
  markButton.disabled = false;
  if (answer.status === 401 || answer.status === 403) {
    setStatus(t('slip.sessionEnded'), 'error',
      { href: '/bridge/app/login.html?next=' + encodeURIComponent('/bridge/app/reception.html'), text: t('slip.signIn'), newTab: true });
    return;
  }
  let message = 'HTTP ' + answer.status;
  const reply = answer.body;
  if (reply && typeof reply === 'object' && typeof reply.error === 'string') {
    message = reply.error + (typeof reply.detail === 'string' && reply.detail ? ' (' + reply.detail + ')' : '');
  }
  setStatus(t('slip.markFailed', { message: message }), 'error');
}

function print() {
  fitReceipt();
  printing = true;
  window.print();
}

/* ------------------------------------------------------------ patient name */

// A DICOM person name as stored ("FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX") is printed the way
// staff see it elsewhere: "FAMILY, GIVEN MIDDLE". A name without "^" is left as it is.
function formatNames() {
  const node = document.querySelector('.slip-fact-name dd');
  if (!node || node.textContent.indexOf('^') === -1) return;
  const name = formatPersonName(node.textContent);
  node.textContent = name;
  document.title = document.title.replace(/\u2014 .*$/, '\u2014 ' + name);
}

/* -------------------------------------------------------------------- start */

formatNames();
markCurrentFormat();
printButton.disabled = false;
markButton.disabled = false;
printButton.addEventListener('click', print);
markButton.addEventListener('click', function () { markPrinted(); });
window.addEventListener('beforeprint', fitReceipt);
// afterprint also follows Ctrl+P and a cancelled print dialog: the status says what to do
// when the paper did not come out (Reprint makes a new link).
window.addEventListener('afterprint', function () {
  printing = false;
  markPrinted();
});

function autoPrint() {
  if (window.location.hash !== '#print') return;
  try {
    history.replaceState(null, '', window.location.pathname + window.location.search);
  } catch (e) { /* keep the hash */ }
  // Let the browser lay the page out (and the QR code render) first.
  setTimeout(function () { if (!printing && !marked) print(); }, 300);
}

if (document.readyState === 'complete') {
  fitReceipt();
  autoPrint();
} else {
  window.addEventListener('load', function () { fitReceipt(); autoPrint(); });
}
