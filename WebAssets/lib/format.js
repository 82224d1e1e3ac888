/*
 * Formatting of names, dates and numbers, for the staff pages and the patient's portal.
 * Dates and times use the browser's locale unless a locale is given (the portal passes
 * the one its catalogue names, "portal.dateLocale").
 */
import { str } from './text.js';
import { t } from './i18n.js';

/*
 * One DICOM PN component group "FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX" → "FAMILY, GIVEN MIDDLE"
 * (prefix before the given name, suffix after a comma). A name without "^" stays as it is.
 */
function formatPersonNameGroup(group) {
  const parts = group.split('^').map(function (p) { return p.trim(); });
  const family = parts[0] || '';
  const given = [parts[3], parts[1], parts[2]].filter(function (p) { return p; }).join(' ');
  const suffix = parts[4] || '';
  let name = family && given ? family + ', ' + given : (family || given);
  if (suffix) name = name ? name + ', ' + suffix : suffix;
  if (parts.length > 5) name += ' ' + parts.slice(5).join(' ').trim();   // malformed: keep the rest
  return name.trim();
}

// Staff: every component group ("alphabetic=ideographic=phonetic") is formatted and kept,
// joined by "=", so nothing the sender wrote is hidden.
export function formatPatientName(raw) {
  if (raw === undefined || raw === null) return '';
  const groups = String(raw).split('=').map(formatPersonNameGroup);
  while (groups.length > 0 && groups[groups.length - 1] === '') groups.pop();
  return groups.join('=');
}

// The patient and the printed slip: the alphabetic group only.
export function formatPersonName(raw) {
  return formatPersonNameGroup(str(raw).split('=')[0]);
}

// Registry names: "LAST, First" (the order staff see in DICOM viewers too).
export function formatRegistryName(first, last) {
  first = first ? String(first).trim() : '';
  last = last ? String(last).trim() : '';
  if (first && last) return last + ', ' + first;
  return last || first;
}

const SEX_KEYS = { M: 'sex.male', F: 'sex.female', O: 'sex.other' };

export function formatSex(value) {
  if (value === undefined || value === null || value === '') return '';
  const key = SEX_KEYS[String(value).toUpperCase()];
  return key ? t(key) : String(value);
}

// "YYYY-MM-DD" (+ optional "HH:MM:SS") → "YYYY-MM-DD HH:MM". Unambiguous in every locale.
export function formatStudyDate(date, time) {
  if (!date) return '';
  const clock = time ? String(time).slice(0, 5) : '';
  return clock ? date + ' ' + clock : String(date);
}

// An ISO timestamp as a Date, or null.
export function parseIso(value) {
  if (!value) return null;
  const date = new Date(String(value));
  return isNaN(date.getTime()) ? null : date;
}

// ISO UTC timestamp → local date and time ("Nov 22, 2026, 09:41"). Unparseable: as it is.
export function formatDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

// ISO timestamp → local date only ("Nov 22, 2026"). Unparseable: as it is.
export function formatDateOnly(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return String(iso);
  return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

// ISO timestamp → local time of day, hours and minutes. Unparseable: as it is.
export function formatTimeOnly(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return String(iso);
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

// A Date → local time with seconds (the pages' "Updated 09:41:07").
export function formatTime(date) {
  return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function formatNumber(n) {
  if (n === undefined || n === null || n === '') return '';
  const num = Number(n);
  return isFinite(num) ? num.toLocaleString() : String(n);
}

// A Date (default now) → its local day "YYYY-MM-DD".
export function localDay(date) {
  const d = date || new Date();
  return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
}

// "YYYY-MM-DD" (or "YYYYMMDD") → "3 March 2026" in `locale`; anything else as it is.
export function formatDay(value, locale) {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(str(value));
  if (!m) return str(value);
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (isNaN(date.getTime())) return str(value);
  return date.toLocaleDateString(locale, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
}

// A Date → "3 March 2026" in `locale` (the local day).
export function formatLongDate(date, locale) {
  return date.toLocaleDateString(locale, { day: 'numeric', month: 'long', year: 'numeric' });
}

// "HHMMSS", "HH:MM:SS" or "HH:MM" → "HH:MM".
export function formatClock(value) {
  const m = /^(\d{2}):?(\d{2})/.exec(str(value));
  return m ? m[1] + ':' + m[2] : '';
}
