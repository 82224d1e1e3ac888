/*
 * The staff pages' frame, built once here for every page: the skip link, the header
 * (product, site, navigation, user, sign out) and the footer. A page's HTML holds only its
 * <main id="main">; its script calls
 *
 *   initLayout({page: '<NAV id>', title: t('...')}) → Promise of GET /bridge/system
 *
 * which builds the frame and fills it from /bridge/system (the header stays usable when
 * that call fails: the promise rejects with the ApiError).
 *
 * Navigation. To add a page: create WebAssets/<name>.html + js/<name>.js, a "nav.<id>" text
 * in lib/locale/en.js, then set "ready: true" on its entry (or add an entry). "roles" limits
 * who sees the link (omitted = every staff role); the server still enforces permissions on
 * every call.
 */
import { api, leaving, APP_ROOT, LOGIN_PAGE, PRODUCT } from './api.js';
import { el, clear } from './dom.js';
import { t, has } from './i18n.js';

export const NAV = [
  { id: 'dashboard', href: '/bridge/app/', ready: true },
  { id: 'studies', href: '/bridge/app/studies.html', ready: false },
  { id: 'patients', href: '/bridge/app/patients.html', ready: true },
  { id: 'federation', href: '/bridge/app/federation.html', ready: true },
  // Sites: every staff role reads the list; only administrators see the edit controls
  // (the server refuses writes from other roles anyway).
  { id: 'sites', href: '/bridge/app/sites.html', ready: true },
  { id: 'reception', href: '/bridge/app/reception.html', ready: true },
  { id: 'orders', href: '/bridge/app/orders.html', ready: true },
  // The reading queue and the report editor: radiologists read and sign; administrators assign.
  { id: 'reading', href: '/bridge/app/reading.html', ready: true, roles: ['admin', 'radiologist'] },
  { id: 'router', href: '/bridge/app/router.html', ready: true, roles: ['admin', 'radiologist', 'technician'] },
  { id: 'audit', href: '/bridge/app/audit.html', ready: true, roles: ['admin'] },
  { id: 'users', href: '/bridge/app/users.html', ready: false, roles: ['admin'] },
  { id: 'explorer', href: '/app/explorer.html', ready: true, external: true }
];

// "Administrator" for "admin"; an unknown role as it is.
export function roleLabel(role) {
  if (!role) return '';
  return has('role.' + role) ? t('role.' + role) : String(role);
}

let layout = null;   // the header/footer nodes once built
let lastSystem = null;

export function currentSystem() {
  return lastSystem;
}

function navItemVisible(item, role) {
  if (!item.ready) return false;
  if (!item.roles) return role !== 'peer';
  return item.roles.indexOf(role) !== -1;
}

function buildSkipLink() {
  if (document.querySelector('a.hb-skip-link')) return;
  const main = document.getElementById('main');
  if (!main) return;
  document.body.insertBefore(el('a', { className: 'hb-skip-link', text: t('layout.skip'), attrs: { href: '#main' } }),
    document.body.firstChild);
}

function buildHeader(page) {
  let header = document.querySelector('header.hb-header');
  if (!header) {
    header = el('header', { className: 'hb-header' });
    const main = document.getElementById('main');
    document.body.insertBefore(header, main || document.body.firstChild);
  }
  clear(header);

  const siteName = el('span', { className: 'hb-site-name', text: '' });
  const siteId = el('span', { className: 'hb-site-id', text: '' });
  const toggle = el('button', {
    className: 'hb-menu-toggle',
    attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'hb-nav-panel' }
  }, [el('span', { className: 'hb-menu-icon', attrs: { 'aria-hidden': 'true' } }), el('span', { text: t('layout.menu') })]);

  const bar = el('div', { className: 'hb-bar' }, [
    el('a', { className: 'hb-brand', attrs: { href: APP_ROOT } }, [
      el('img', { attrs: { src: '/bridge/app/img/logo.svg', alt: '', width: '28', height: '28' } }),
      el('span', { className: 'hb-brand-name', text: PRODUCT })
    ]),
    el('span', { className: 'hb-site' }, [siteName, siteId]),
    toggle
  ]);

  const navList = el('ul', { className: 'hb-nav-list' });
  const navLinks = [];
  NAV.forEach(function (item) {
    const link = el('a', {
      className: 'hb-nav-link' + (item.external ? ' hb-nav-external' : ''),
      text: t('nav.' + item.id),
      attrs: { href: item.href, 'aria-current': item.id === page ? 'page' : null }
    });
    const li = el('li', { hidden: !navItemVisible(item, '') }, [link]);
    navLinks.push({ item: item, li: li });
    navList.appendChild(li);
  });

  const userName = el('span', { className: 'hb-user-name', text: '' });
  const userRole = el('span', { className: 'hb-role', text: '' });
  const signOut = el('button', { className: 'hb-button hb-button-quiet hb-signout', text: t('layout.signOut'), attrs: { type: 'button' } });
  const signOutError = el('span', { className: 'hb-signout-error', attrs: { role: 'alert' } });

  const panel = el('div', { className: 'hb-panel', id: 'hb-nav-panel' }, [
    el('nav', { className: 'hb-nav', attrs: { 'aria-label': t('layout.navLabel') } }, [navList]),
    el('div', { className: 'hb-user' }, [
      el('span', { className: 'hb-user-who' }, [
        el('span', { className: 'hb-visually-hidden', text: t('layout.signedInAs') + ' ' }), userName, userRole
      ]),
      signOut,
      signOutError
    ])
  ]);

  header.appendChild(bar);
  header.appendChild(panel);

  function setMenuOpen(open) {
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    header.classList.toggle('hb-menu-open', open);
  }
  toggle.addEventListener('click', function () {
    setMenuOpen(toggle.getAttribute('aria-expanded') !== 'true');
  });
  header.addEventListener('keydown', function (event) {
    if (event.key === 'Escape' && toggle.getAttribute('aria-expanded') === 'true') {
      setMenuOpen(false);
      toggle.focus();
    }
  });
  signOut.addEventListener('click', function () { doSignOut(signOut, signOutError); });

  return { header: header, siteName: siteName, siteId: siteId, navLinks: navLinks, userName: userName, userRole: userRole };
}

function buildFooter() {
  let footer = document.querySelector('footer.hb-footer');
  if (!footer) {
    footer = el('footer', { className: 'hb-footer' });
    document.body.appendChild(footer);
  }
  clear(footer);
  const version = el('span', { className: 'hb-footer-version', text: PRODUCT });
  const extra = el('span', { className: 'hb-footer-extra', text: '' });
  footer.appendChild(el('div', { className: 'hb-footer-inner' }, [version, extra]));
  return { version: version, extra: extra };
}

async function doSignOut(button, errorNode) {
  button.disabled = true;
  errorNode.textContent = '';
  try {
    await api('/bridge/logout', { method: 'POST', auth: false });
  } catch (e) {
    // 401/403: the session was already gone, which is what we wanted.
    if (e.status !== 401 && e.status !== 403) {
      button.disabled = false;
      errorNode.textContent = t('layout.signOutFailed', { message: e.message });
      return;
    }
  }
  leaving(true);
  window.location.replace(LOGIN_PAGE + '?signed_out=1');
}

function applySystem(system) {
  lastSystem = system;
  if (!layout || !system) return;
  const site = system.site || {};
  const user = system.user || {};
  const plugin = system.plugin || {};
  const orthanc = system.orthanc || {};
  layout.siteName.textContent = site.name || '';
  layout.siteId.textContent = site.id ? site.id : '';
  layout.userName.textContent = user.username || '';
  layout.userRole.textContent = roleLabel(user.role);
  layout.navLinks.forEach(function (entry) {
    entry.li.hidden = !navItemVisible(entry.item, user.role || '');
  });
  layout.footer.version.textContent = (plugin.name || PRODUCT) + (plugin.version ? ' ' + plugin.version : '');
  layout.footer.extra.textContent = orthanc.version ? t('layout.orthancVersion', { version: orthanc.version }) : '';
  const parts = [layout.title];
  if (site.name) parts.push(site.name);
  parts.push(PRODUCT);
  document.title = parts.filter(function (p) { return p; }).join(' \u2014 ');
}

// GET /bridge/system, and refresh the header/footer with it. Resolves with the system object.
export async function loadSystem() {
  const system = await api('/bridge/system');
  applySystem(system);
  return system;
}

// options: page (NAV id of the current page), title (the page's title, from the locale).
export function initLayout(options) {
  options = options || {};
  buildSkipLink();
  layout = buildHeader(options.page || '');
  layout.footer = buildFooter();
  layout.title = options.title || '';
  return loadSystem();
}
