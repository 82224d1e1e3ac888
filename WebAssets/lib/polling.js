/*
 * Auto-refresh for the staff pages that show live lists (dashboard, reception).
 */
import { t } from './i18n.js';
import { formatTime } from './format.js';

const DEFAULT_IDLE_MS = 10 * 60 * 1000;

/*
 * Calls fn() now, then every intervalMs (after the previous call finished) while the tab is
 * visible and someone used the page within idleMs (default 10 min). An unattended screen
 * stops polling, so the server's idle-session timeout still signs it out; a key press,
 * click, touch or mouse move resumes at once. options.onPause(true|false) reports pauses.
 * Returns {refreshNow()}.
 */
export function startPolling(fn, options) {
  options = options || {};
  const intervalMs = options.intervalMs || 10000;
  const idleMs = options.idleMs || DEFAULT_IDLE_MS;
  let lastActivity = Date.now();
  let timer = null;
  let running = false;
  let again = false;   // a refresh asked for while one was running: run once more right after
  let paused = false;

  function setPaused(value) {
    if (paused === value) return;
    paused = value;
    if (options.onPause) options.onPause(value);
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (!document.hidden && !paused) timer = setTimeout(tick, intervalMs);
  }

  async function tick() {
    clearTimeout(timer);
    timer = null;
    if (running) { again = true; return; }
    if (document.hidden) return;
    if (Date.now() - lastActivity > idleMs) { setPaused(true); return; }
    running = true;
    try { await fn(); } catch (e) { /* fn reports its own errors */ }
    running = false;
    if (again) { again = false; tick(); return; }
    schedule();
  }

  function activity() {
    lastActivity = Date.now();
    if (paused) { setPaused(false); tick(); }
  }

  ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'].forEach(function (type) {
    document.addEventListener(type, activity, { passive: true, capture: true });
  });
  document.addEventListener('visibilitychange', function () {
    if (document.hidden) { clearTimeout(timer); timer = null; return; }
    lastActivity = Date.now();
    setPaused(false);
    tick();
  });
  tick();
  return { refreshNow: tick };
}

// The refresh line under a page's title: paused, "Updated 09:41:07 · refreshes every 10 s",
// or not loaded yet.
export function refreshStatusText(paused, lastSuccess, intervalMs) {
  if (paused) return t('refresh.paused');
  if (lastSuccess) return t('refresh.updated', { time: formatTime(lastSuccess), seconds: Math.round(intervalMs / 1000) });
  return t('refresh.notLoaded');
}

// "Could not load <problems>. Showing data from 09:41:07." for a refresh that partly failed.
export function loadProblemsText(problems, lastSuccess) {
  let message = t('refresh.couldNotLoad', { problems: problems.join('; ') });
  if (lastSuccess) message += ' ' + t('refresh.showingFrom', { time: formatTime(lastSuccess) });
  return message;
}
