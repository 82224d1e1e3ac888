"""Minimal Chrome DevTools Protocol client for headless Chromium
(Debian's /usr/bin/chromium + python3-websocket)."""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

import orthanc_harness as h

try:
    import websocket  # python3-websocket
except ImportError:  # pragma: no cover
    import sys
    sys.path.append("/usr/lib/python3/dist-packages")
    import websocket

CHROMIUM = os.environ.get("HB_CHROMIUM", "/usr/bin/chromium")


class CDPError(RuntimeError):
    pass


class Browser(object):
    """Headless Chromium with one page, driven over CDP.

    Collects console errors, uncaught exceptions and failed requests in
    self.problems (list of str)."""

    def __init__(self, artifacts_prefix="browser", extra_args=()):
        # extra_args: more command-line switches, e.g. --host-resolver-rules
        self.extra_args = list(extra_args)
        self.user_data = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-chromium-"))
        self.stderr_path = os.path.join(self.user_data, "chromium.stderr")
        self.proc = None
        self.ws = None
        self._id = 0
        self._lock = threading.Lock()
        self._pending = {}
        self._events = []
        self._cond = threading.Condition()
        self.problems = []
        self.console = []
        self.requests_failed = []
        self._reader = None
        self._closed = False

    # --- lifecycle ------------------------------------------------------------

    def start(self, timeout=30):
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions",
                "--disable-default-apps", "--disable-dev-shm-usage", "--no-proxy-server",
                "--password-store=basic", "--use-mock-keychain", "--mute-audio",
                "--hide-scrollbars", "--remote-debugging-port=0", "--remote-allow-origins=*",
                "--user-data-dir=" + self.user_data, "--window-size=1366,768"] + self.extra_args + ["about:blank"]
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self._stderr,
                                     stdin=subprocess.DEVNULL, preexec_fn=h._pdeathsig,
                                     start_new_session=True)
        h.register_process(self.proc, group=True)
        port_file = os.path.join(self.user_data, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
            if self.proc.poll() is not None:
                raise CDPError("chromium exited (%s): %s" % (self.proc.returncode, self.stderr_text()[-2000:]))
            if time.monotonic() > deadline:
                raise CDPError("chromium did not open its DevTools port: " + self.stderr_text()[-2000:])
            time.sleep(0.1)
        port = int(open(port_file).read().splitlines()[0])
        s = h.requests.Session()
        s.trust_env = False
        targets = h.wait_until(
            lambda: [t for t in s.get("http://127.0.0.1:%d/json/list" % port, timeout=5).json()
                     if t.get("type") == "page"], 15, message="no page target in chromium")
        self.ws = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=60,
                                              suppress_origin=True)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable")
        return self

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self):
        self._closed = True
        try:
            if self.ws is not None:
                self.ws.close()
        except Exception:
            pass
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            # helpers (network service, crashpad...) share the process group
            h.kill_process_group(self.proc)
            h.unregister_process(self.proc)
        try:
            self._stderr.close()
        except Exception:
            pass
        for _ in range(20):
            shutil.rmtree(self.user_data, ignore_errors=True)
            if not os.path.exists(self.user_data):
                break
            time.sleep(0.1)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()
        return False

    # --- protocol ---------------------------------------------------------------

    def _read_loop(self):
        while not self._closed:
            try:
                raw = self.ws.recv()
            except Exception:
                break
            if not raw:
                continue
            msg = json.loads(raw)
            with self._cond:
                if "id" in msg:
                    self._pending[msg["id"]] = msg
                else:
                    self._events.append(msg)
                    self._on_event(msg)
                self._cond.notify_all()

    def _on_event(self, msg):
        method = msg.get("method")
        p = msg.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            ex = d.get("exception", {}) or {}
            self.problems.append("uncaught exception: %s %s (%s:%s)" % (
                d.get("text", ""), ex.get("description", ""), d.get("url", ""), d.get("lineNumber", "")))
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.console.append((p.get("type"), text))
            if p.get("type") in ("error", "assert"):
                self.problems.append("console.%s: %s" % (p.get("type"), text))
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            self.console.append((e.get("level"), e.get("text")))
            if e.get("level") == "error":
                self.problems.append("log error (%s): %s %s" % (e.get("source"), e.get("text"), e.get("url", "")))
        elif method == "Network.loadingFailed":
            if not p.get("canceled"):
                self.requests_failed.append(p)

    def call(self, method, timeout=30, **params):
        with self._lock:
            self._id += 1
            mid = self._id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        with self._cond:
            while mid not in self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CDPError("timeout waiting for %s" % method)
                self._cond.wait(left)
            msg = self._pending.pop(mid)
        if "error" in msg:
            raise CDPError("%s: %s" % (method, msg["error"]))
        return msg.get("result", {})

    def events(self, method):
        with self._cond:
            return [e for e in self._events if e.get("method") == method]

    def csp_violations(self):
        """Content-Security-Policy violations reported so far (Chromium logs each
        one as a console error, source "security"; they are in self.problems too)."""
        return [text for _, text in list(self.console) if text and "Content Security Policy" in text]

    def requested_urls(self, since=0):
        """URLs the page requested, from the since-th request on (Network domain)."""
        return [e["params"]["request"].get("url", "") for e in self.events("Network.requestWillBeSent")[since:]]

    # --- conveniences -------------------------------------------------------------

    def evaluate(self, expression, await_promise=False):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                      awaitPromise=await_promise)
        if "exceptionDetails" in r:
            raise CDPError("JS error in %r: %s" % (expression[:80], r["exceptionDetails"]))
        return r.get("result", {}).get("value")

    def navigate(self, url, timeout=30):
        """Loads url and returns once that document (not the one before it) fired its load event.
        Counting load events alone is not enough: the previous page's load (after a sign-in redirect,
        say) can arrive after the navigation was asked for and would be taken for this one's."""
        with self._cond:
            start = len(self._events)
        r = self.call("Page.navigate", url=url)
        if r.get("errorText"):
            raise CDPError("navigation to %s failed: %s" % (url, r["errorText"]))
        loader = r.get("loaderId")

        def loaded():
            with self._cond:
                events = self._events[start:]
            committed = None
            for i, e in enumerate(events):
                p = e.get("params", {})
                if committed is None:
                    frame = p.get("frame", {}) if e.get("method") == "Page.frameNavigated" else {}
                    if not loader or (frame.get("loaderId") == loader and not frame.get("parentId")):
                        committed = i
                elif e.get("method") == "Page.loadEventFired":
                    return True
            return False

        h.wait_until(loaded, timeout, message="page %s did not load" % url)

    def wait_js(self, expression, timeout=20, message=None):
        return h.wait_until(lambda: self.evaluate(expression), timeout, interval=0.2,
                            message=message or ("JS condition never true: " + expression))

    def type_into(self, selector, text):
        ok = self.evaluate("(function(){var e=document.querySelector(%s); if(!e) return false;"
                           " e.focus(); e.select && e.select(); return document.activeElement===e;})()"
                           % json.dumps(selector))
        if not ok:
            raise CDPError("cannot focus %s" % selector)
        self.call("Input.insertText", text=text)

    def click(self, selector):
        box = self.evaluate("(function(){var e=document.querySelector(%s); if(!e) return null;"
                            " e.scrollIntoView({block:'center'}); var r=e.getBoundingClientRect();"
                            " return [r.left+r.width/2, r.top+r.height/2, r.width, r.height];})()"
                            % json.dumps(selector))
        if not box or box[2] <= 0 or box[3] <= 0:
            raise CDPError("element %s not visible: %r" % (selector, box))
        x, y = box[0], box[1]
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        self.call("Input.dispatchMouseEvent", type="mousePressed", x=x, y=y, button="left", clickCount=1)
        self.call("Input.dispatchMouseEvent", type="mouseReleased", x=x, y=y, button="left", clickCount=1)

    def set_viewport(self, width, height, mobile=False, scale=1):
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=scale, mobile=mobile)

    def screenshot(self, path, full_page=False):
        params = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        r = self.call("Page.captureScreenshot", **params)
        data = base64.b64decode(r["data"])
        with open(path, "wb") as f:
            f.write(data)
        return data
