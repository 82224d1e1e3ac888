/*
 * One JSON request to the same server, with a time limit. Used by the staff pages' api()
 * (lib/api.js) and by the patient's portal (share/share.js), which each turn the answer
 * into their own errors and messages.
 *
 *   request(path, {method, body, timeoutMs}) → {status, ok, body, headers}
 *     body: the parsed JSON answer, the text when it is not JSON, null when empty.
 *     A body given in the options is sent as JSON.
 *   Rejects with {network: true, timedOut} when the server could not be reached.
 */
export const DEFAULT_TIMEOUT_MS = 30000;

async function readBody(response) {
  let text = '';
  try { text = await response.text(); } catch (e) { text = ''; }
  if (!text) return null;
  try { return JSON.parse(text); } catch (e) { return text; }
}

export async function request(path, options) {
  options = options || {};
  const headers = { Accept: 'application/json' };
  const init = { method: (options.method || 'GET').toUpperCase(), headers: headers, credentials: 'same-origin', cache: 'no-store' };
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  let timer = null;
  if (controller) {
    init.signal = controller.signal;
    timer = setTimeout(function () { controller.abort(); }, options.timeoutMs || DEFAULT_TIMEOUT_MS);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    if (timer) clearTimeout(timer);
    throw { network: true, timedOut: !!(e && e.name === 'AbortError') };
  }
  const body = await readBody(response);
  if (timer) clearTimeout(timer);
  return { status: response.status, ok: response.ok, body: body, headers: response.headers };
}
