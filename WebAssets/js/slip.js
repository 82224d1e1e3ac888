/*
 * The reception slip page (GET /bridge/shares/<id>/slip, Resources/Templates/slip.html).
 *   - "Print" prints; after printing (afterprint), or with "Mark as printed", it sends
 *     POST /bridge/shares/<id>/printed: the server then forgets the token and the PIN, and
 *     a new slip needs "Reprint" on the reception page.
 *   - The A6 / receipt links reload the page with ?format=a6|receipt.
 *   - On a receipt roll the page is as long as the slip (an @page rule set here through the
 *     CSSOM: the strict CSP forbids inline styles, not the CSSOM).
 *   - Opened as ".../slip#print" (the reception page does), it prints at once.
 * Plain ES2017; does not need app.js.
 */
(function () {
  'use strict';

  var body = document.body;
  var shareId = body.getAttribute('data-share-id') || '';
  var format = body.getAttribute('data-format') === 'receipt' ? 'receipt' : 'a6';
  var printButton = document.getElementById('slip-print');
  var markButton = document.getElementById('slip-mark');
  var status = document.getElementById('slip-status');
  var marked = false;
  var marking = false;
  var printing = false;

  function setStatus(text, tone, link) {
    while (status.firstChild) status.removeChild(status.firstChild);
    status.appendChild(document.createTextNode(text));
    if (link) {
      status.appendChild(document.createTextNode(' '));
      var a = document.createElement('a');
      a.href = link.href;
      a.textContent = link.text;
      if (link.newTab) { a.target = '_blank'; a.rel = 'noopener'; }
      status.appendChild(a);
    }
    status.className = 'slip-status' + (tone ? ' slip-status-' + tone : '');
  }

  /* ------------------------------------------------------------- paper format */

  function markCurrentFormat() {
    ['a6', 'receipt'].forEach(function (name) {
      var link = document.getElementById('slip-format-' + name);
      if (!link) return;
      if (name === format) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    });
  }

  var receiptRule = null;   // {sheet, rule} inserted for the receipt's length

  function slipSheet() {
    for (var i = 0; i < document.styleSheets.length; i++) {
      var sheet = document.styleSheets[i];
      if (sheet.href && /\/slip\.css(\?|$)/.test(sheet.href)) return sheet;
    }
    return null;
  }

  // 80 mm wide and exactly as long as the slip, so the roll is not fed for nothing.
  function fitReceipt() {
    if (format !== 'receipt') return;
    var sheetNode = document.querySelector('.slip-sheet');
    var css = slipSheet();
    if (!sheetNode || !css) return;
    var heightMm = Math.ceil(sheetNode.getBoundingClientRect().height * 25.4 / 96) + 2;
    heightMm = Math.max(60, Math.min(600, heightMm));
    try {
      if (receiptRule) {
        for (var i = css.cssRules.length - 1; i >= 0; i--) {
          if (css.cssRules[i] === receiptRule) { css.deleteRule(i); break; }
        }
      }
      var index = css.insertRule('@page slip-receipt { size: 80mm ' + heightMm + 'mm; margin: 0; }',
        css.cssRules.length);
      receiptRule = css.cssRules[index];
    } catch (e) {
      receiptRule = null;   // the 200 mm default of slip.css stays
    }
  }

  /* ----------------------------------------------------------------- printed */

  async function markPrinted() {
    if (marked || marking) return;
    if (!/^[0-9]+$/.test(shareId)) {
      setStatus('This slip has no share number: it cannot be marked as printed.', 'error');
      return;
    }
    marking = true;
    markButton.disabled = true;
    var response;
    try {
      response = await fetch('/bridge/shares/' + encodeURIComponent(shareId) + '/printed', {
        method: 'POST',
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { Accept: 'application/json' }
      });
    } catch (e) {
      marking = false;
      markButton.disabled = false;
      setStatus('Could not reach the server to mark the slip as printed. Check the network and press ' +
        '\u201cMark as printed\u201d again.', 'error');
      return;
    }
    marking = false;
    if (response.ok || response.status === 410) {
      marked = true;
      body.classList.add('slip-is-printed');
      markButton.textContent = 'Marked as printed';
      setStatus('Printed: the PIN is no longer kept. If the slip did not come out, use Reprint on the ' +
        'reception page.', 'ok', { href: '/bridge/app/reception.html', text: 'Reception page' });
      return;
    }
    markButton.disabled = false;
    if (response.status === 401 || response.status === 403) {
      setStatus('Your staff session has ended, so the slip could not be marked as printed. Sign in again ' +
        '(in another tab), then press \u201cMark as printed\u201d.', 'error',
        { href: '/bridge/app/login.html?next=' + encodeURIComponent('/bridge/app/reception.html'), text: 'Sign in', newTab: true });
      return;
    }
    var message = 'HTTP ' + response.status;
    try {
      var answer = await response.json();
      if (answer && typeof answer.error === 'string') {
        message = answer.error + (typeof answer.detail === 'string' && answer.detail ? ' (' + answer.detail + ')' : '');
      }
    } catch (e) { /* not JSON */ }
    setStatus('Could not mark the slip as printed: ' + message + '. Try again.', 'error');
  }

  function print() {
    fitReceipt();
    printing = true;
    window.print();
  }

  /* ------------------------------------------------------------ patient name */

  // A DICOM person name as stored ("FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX") is printed the way
  // staff see it elsewhere: "FAMILY, GIVEN MIDDLE". A name without "^" is left as it is.
  function formatPersonName(raw) {
    var text = String(raw || '').split('=')[0];
    if (text.indexOf('^') === -1) return text.trim();
    var parts = text.split('^').map(function (p) { return p.trim(); });
    var given = [parts[3], parts[1], parts[2]].filter(Boolean).join(' ');
    var name = parts[0] && given ? parts[0] + ', ' + given : (parts[0] || given);
    if (parts[4]) name += ', ' + parts[4];
    return name;
  }

  function formatNames() {
    var node = document.querySelector('.slip-fact-name dd');
    if (!node || node.textContent.indexOf('^') === -1) return;
    var name = formatPersonName(node.textContent);
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
})();
