/*
 * Building DOM nodes safely, for the staff pages and the patient's portal.
 *
 * SECURITY RULE (for every page script): every string that comes from the server reaches
 * the DOM ONLY as text: el()'s "text" and string children (text nodes), textContent,
 * setText(), or Preact text children (lib/view.js). DICOM values are attacker-controllable:
 * a patient name can be "<img src=x onerror=alert(1)>". NEVER use innerHTML, outerHTML,
 * insertAdjacentHTML, document.write, eval, or on* / style attributes with data. The pages
 * are served with a strict Content-Security-Policy (no inline script or style, no eval,
 * nothing from other origins): keep it that way.
 */

// The element with that id.
export function byId(id) {
  return document.getElementById(id);
}

// Only same-origin absolute paths ("/x", not "//x") or in-page fragments ("#x").
export function isSafeUrl(value) {
  if (typeof value !== 'string') return false;
  if (value.charAt(0) === '#') return true;
  if (value.charAt(0) !== '/' || value.charAt(1) === '/' || value.charAt(1) === '\\') return false;
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return false;
  try {
    return new URL(value, window.location.origin).origin === window.location.origin;
  } catch (e) {
    return false;
  }
}

const URL_ATTRIBUTES = { href: true, src: true, action: true, formaction: true, xlink_href: true, poster: true };

// Attributes refused whatever their value: event handlers, inline style, srcdoc.
export function isForbiddenAttribute(name) {
  const lower = String(name).toLowerCase();
  return lower.indexOf('on') === 0 || lower === 'style' || lower === 'srcdoc' || lower === 'dangerouslysetinnerhtml';
}

export function isUrlAttribute(name) {
  return URL_ATTRIBUTES[String(name).toLowerCase().replace(':', '_')] === true;
}

/*
 * Sets an attribute, refusing the dangerous ones: event handlers, style, srcdoc, and URL
 * attributes whose value urlAllowed (default isSafeUrl) refuses.
 */
export function setAttr(node, name, value, urlAllowed) {
  if (isForbiddenAttribute(name)) throw new Error('setAttr: refusing attribute "' + name + '"');
  if (isUrlAttribute(name) && !(urlAllowed || isSafeUrl)(String(value))) {
    throw new Error('setAttr: refusing URL "' + value + '"');
  }
  node.setAttribute(name, String(value));
}

// Children may be nodes or strings/numbers (which become text nodes); null, undefined,
// false and '' are skipped; nested arrays are flattened.
export function appendChildren(node, children) {
  if (children === undefined || children === null) return node;
  if (!Array.isArray(children)) children = [children];
  children.forEach(function (child) {
    if (child === undefined || child === null || child === false || child === '') return;
    if (Array.isArray(child)) { appendChildren(node, child); return; }
    node.appendChild(typeof child === 'string' || typeof child === 'number'
      ? document.createTextNode(String(child)) : child);
  });
  return node;
}

/*
 * makeEl(urlAllowed) → el(tag, props, children), whose href/src/... must pass urlAllowed.
 * props: className, id, text (set as textContent), hidden, attrs {name: value} (null,
 * undefined and false leave the attribute out), on {event: handler}.
 */
export function makeEl(urlAllowed) {
  return function el(tag, props, children) {
    const node = document.createElement(tag);
    props = props || {};
    if (props.className) node.className = props.className;
    if (props.id) node.id = props.id;
    if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
    if (props.hidden) node.hidden = true;
    if (props.attrs) {
      Object.keys(props.attrs).forEach(function (name) {
        const value = props.attrs[name];
        if (value !== undefined && value !== null && value !== false) setAttr(node, name, value, urlAllowed);
      });
    }
    if (props.on) {
      Object.keys(props.on).forEach(function (type) { node.addEventListener(type, props.on[type]); });
    }
    return appendChildren(node, children);
  };
}

// el() for the staff pages: links and sources are same-origin paths.
export const el = makeEl(isSafeUrl);

export function clear(node) {
  while (node && node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// Sets the text of the element with that id (or of a node). Missing values show as a dash.
export function setText(target, value) {
  const node = typeof target === 'string' ? document.getElementById(target) : target;
  if (!node) return null;
  node.textContent = (value === undefined || value === null || value === '') ? '\u2014' : String(value);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

// An <svg viewBox="0 0 24 24"> of stroked paths, hidden from screen readers.
export function svgIcon(className, paths) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', className);
  svg.setAttribute('aria-hidden', 'true');
  paths.forEach(function (d) {
    const path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', d);
    svg.appendChild(path);
  });
  return svg;
}
