/*
 * Plain value helpers shared by the staff pages and the patient's portal (served as
 * /bridge/app/lib/text.js and /s/assets/lib/text.js). No DOM, no text of their own.
 */

// Any value as a string; undefined and null become ''.
export function str(value) {
  return value === undefined || value === null ? '' : String(value);
}

// A plain object (not null, not an array): what a JSON record from the server is.
export function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// The records of a JSON list, anything else dropped; not a list: [].
export function objects(list) {
  return Array.isArray(list) ? list.filter(isObject) : [];
}

// At most `max` characters, an ellipsis marking a cut.
export function clip(text, max) {
  text = str(text);
  return text.length > max ? text.slice(0, max - 1) + '\u2026' : text;
}

// The first letter in upper case.
export function capitalize(text) {
  text = str(text);
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

// Both calls' outcome without throwing: {ok: true, value} or {ok: false, error}.
export function settle(promise) {
  return promise.then(function (value) { return { ok: true, value: value }; },
    function (error) { return { ok: false, error: error }; });
}
