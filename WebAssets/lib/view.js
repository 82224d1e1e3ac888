/*
 * The view library for the staff pages written as components: Preact with htm's tagged
 * templates (no build step, no eval: both run under the pages' strict CSP). The library
 * is not in the repository: the build fetches the versions pinned in
 * WebAssets/vendor/vendor.json, checks their SHA-256 and serves them as /bridge/app/vendor/.
 *
 *   import { html, render, useState } from '../lib/view.js';
 *   render(html`<p class="hb-muted">${t('common.loading')}</p>`, byId('app'));
 *
 * Values interpolated as children are text nodes (never HTML). As for el() (lib/dom.js),
 * this module refuses, for every element: dangerouslySetInnerHTML, string event-handler
 * attributes ("onclick" as text), "style" and "srcdoc" given as strings, and URL attributes
 * (href, src, action...) that are not same-origin paths.
 */
import { h, render, Fragment, options, createRef } from '../vendor/preact/preact.js';
import { useState, useEffect, useRef, useMemo, useCallback, useReducer, useLayoutEffect } from '../vendor/preact/hooks.js';
import htm from '../vendor/htm/htm.js';
import { isSafeUrl, isUrlAttribute } from './dom.js';

export const html = htm.bind(h);
export { h, render, Fragment, createRef, useState, useEffect, useRef, useMemo, useCallback, useReducer, useLayoutEffect };

function checkProps(type, props) {
  Object.keys(props).forEach(function (name) {
    const value = props[name];
    const lower = name.toLowerCase();
    if (lower === 'dangerouslysetinnerhtml') throw new Error('view: refusing dangerouslySetInnerHTML on <' + type + '>');
    if (lower.indexOf('on') === 0 && value !== undefined && value !== null && typeof value !== 'function') {
      throw new Error('view: refusing a non-function "' + name + '" on <' + type + '>');
    }
    if ((lower === 'style' || lower === 'srcdoc') && typeof value === 'string') {
      throw new Error('view: refusing "' + name + '" as a string on <' + type + '>');
    }
    if (isUrlAttribute(name) && value !== undefined && value !== null && value !== false && !isSafeUrl(String(value))) {
      throw new Error('view: refusing URL "' + value + '" on <' + type + '>');
    }
  });
}

const previous = options.vnode;
options.vnode = function (vnode) {
  if (typeof vnode.type === 'string' && vnode.props) checkProps(vnode.type, vnode.props);
  if (previous) previous(vnode);
};
