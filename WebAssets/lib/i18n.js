/*
 * The pages' texts, looked up by key in one catalogue per language (lib/locale/<lang>.js).
 *
 *   t('sites.summary', {count: 3})   → the text, with {name} placeholders filled in
 *   tParts('dashboard.noStudies', {aet: el('strong', {text: aet})})
 *                                     → [text, node, text...]: placeholders may be nodes
 *                                       (el() children, Preact children)
 *
 * A message is a string, or {one: '…', other: '…'} (plural forms chosen by vars.count with
 * Intl.PluralRules). Numbers in vars are written with toLocaleString(). A key missing in
 * the chosen language falls back to English; a key missing in English shows as the key.
 *
 * The language: localStorage "hb.language" when it names a catalogue (set it with
 * setLanguage('xx'), e.g. from the browser's console or a future settings page), otherwise
 * the first of the browser's languages (navigator.languages) that has one, otherwise English.
 * To add a language: copy lib/locale/en.js to lib/locale/<lang>.js, translate the values,
 * and import it into CATALOGS below.
 *
 * Texts are only ever set as text (textContent, text nodes), never parsed as HTML.
 */
import en from './locale/en.js';

const CATALOGS = { en: en };
const FALLBACK = 'en';
const STORAGE_KEY = 'hb.language';

function storedLanguage() {
  try {
    return window.localStorage.getItem(STORAGE_KEY) || '';
  } catch (e) {
    return '';   // storage blocked
  }
}

function chooseLanguage() {
  const wanted = [storedLanguage()].concat(Array.from(navigator.languages || [navigator.language || '']));
  for (const tag of wanted) {
    const lower = String(tag || '').toLowerCase();
    if (CATALOGS[lower]) return lower;
    const primary = lower.split('-')[0];
    if (CATALOGS[primary]) return primary;
  }
  return FALLBACK;
}

export const language = chooseLanguage();
export const languages = Object.keys(CATALOGS);
const messages = CATALOGS[language];
const plurals = typeof Intl === 'object' && Intl.PluralRules ? new Intl.PluralRules(language) : null;
if (document.documentElement.lang !== language) document.documentElement.lang = language;

// Remembers the language for this browser (an unknown code clears the choice); reload to apply.
export function setLanguage(code) {
  try {
    if (code && CATALOGS[code]) window.localStorage.setItem(STORAGE_KEY, code);
    else window.localStorage.removeItem(STORAGE_KEY);
  } catch (e) { /* storage blocked */ }
}

function lookup(key) {
  if (Object.prototype.hasOwnProperty.call(messages, key)) return messages[key];
  if (Object.prototype.hasOwnProperty.call(CATALOGS[FALLBACK], key)) return CATALOGS[FALLBACK][key];
  return undefined;
}

// true when the key has a text (in the chosen language or in English).
export function has(key) {
  return lookup(key) !== undefined;
}

function template(key, vars) {
  let message = lookup(key);
  if (message === undefined) return key;
  if (message !== null && typeof message === 'object') {
    const count = vars && typeof vars.count === 'number' ? vars.count : NaN;
    const form = count === 1 ? 'one' : (plurals && isFinite(count) ? plurals.select(count) : 'other');
    message = message[form] !== undefined ? message[form] : message.other;
  }
  return String(message);
}

function fill(value) {
  return typeof value === 'number' ? value.toLocaleString() : value;
}

// The text of `key`, {placeholders} replaced by vars (strings and numbers).
export function t(key, vars) {
  const text = template(key, vars);
  if (!vars) return text;
  return text.replace(/\{([A-Za-z0-9_]+)\}/g, function (whole, name) {
    return Object.prototype.hasOwnProperty.call(vars, name) && vars[name] !== undefined && vars[name] !== null
      ? String(fill(vars[name])) : whole;
  });
}

// The text of `key` as a list of parts: strings, and the vars given for its placeholders
// as they are (DOM nodes or Preact elements stay nodes; strings stay text).
export function tParts(key, vars) {
  const pieces = template(key, vars).split(/\{([A-Za-z0-9_]+)\}/);
  const parts = [];
  pieces.forEach(function (piece, i) {
    if (i % 2 === 0) {
      if (piece) parts.push(piece);
    } else if (vars && Object.prototype.hasOwnProperty.call(vars, piece) && vars[piece] !== undefined && vars[piece] !== null) {
      const value = fill(vars[piece]);
      parts.push(typeof value === 'object' ? value : String(value));
    } else {
      parts.push('{' + piece + '}');
    }
  });
  return parts;
}
