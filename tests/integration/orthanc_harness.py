"""Reusable harness for HospitalBridge integration tests.

Starts a real /usr/sbin/Orthanc (with or without libHospitalBridge.so) on free
loopback ports in its own temporary folder, and gives the tests what they need
to talk to it (REST sessions, storescu, DICOM sample files, polling helpers).

Environment (set by CTest):
  HB_PLUGIN      absolute path of libHospitalBridge.so
                 (default /work/main/build/libHospitalBridge.so)
  HB_ARTIFACTS   folder for logs and screenshots
                 (default /work/main/build/test-artifacts)
  HB_SOURCE_DIR  source tree (default /work/main)

Every Orthanc started here is killed when the test process exits, even on
failure or SIGTERM (atexit + SIGTERM handler + PR_SET_PDEATHSIG).
"""

import atexit
import copy
import ctypes
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

# CTest may run a python3 that is not Debian's (e.g. pyenv): Debian's pure
# Python packages (pydicom, requests, websocket) are then still usable.
try:
    import requests  # noqa: F401
    import pydicom  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.append("/usr/lib/python3/dist-packages")

import requests
import pydicom
from pydicom.uid import generate_uid

ORTHANC_BIN = os.environ.get("HB_ORTHANC", "/usr/sbin/Orthanc")
SOURCE_DIR = os.environ.get("HB_SOURCE_DIR", "/work/main")
PLUGIN = os.environ.get("HB_PLUGIN", os.path.join(SOURCE_DIR, "build", "libHospitalBridge.so"))
ARTIFACTS = os.environ.get("HB_ARTIFACTS", os.path.join(SOURCE_DIR, "build", "test-artifacts"))
SAMPLES_DIR = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")

DEFAULT_ADMIN_PASSWORD = "Adm1n-Integration-Test-Pw!"
ADMIN_USER = "admin"

_NOT_SET = object()


def artifacts_dir():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS


# ---------------------------------------------------------------------------
# Process cleanup, whatever happens
# ---------------------------------------------------------------------------

_live_processes = set()
_live_lock = threading.Lock()


_process_groups = set()
_temp_dirs = set()


def register_temp_dir(path):
    """Removed on SIGTERM (normal paths remove their own)."""
    _temp_dirs.add(path)
    return path


def kill_process_group(p):
    """SIGKILL the process group led by p (a child started with
    start_new_session=True), e.g. Chromium and its helper processes."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_all_live():
    with _live_lock:
        procs = list(_live_processes)
        groups = set(_process_groups)
    for p in procs:
        try:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        except Exception:
            pass
        if p.pid in groups:
            kill_process_group(p)


atexit.register(_kill_all_live)


def _on_sigterm(signum, frame):
    # e.g. CTest's timeout: kill our Orthancs/browsers, then leave at once
    # (a SystemExit would be swallowed by unittest as a test error).
    _kill_all_live()
    for d in list(_temp_dirs):
        shutil.rmtree(d, ignore_errors=True)
    os._exit(128 + signum)


try:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
except Exception:  # pragma: no cover
    pass


def _pdeathsig():
    """preexec_fn: the child gets SIGKILL if the test process dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def register_process(p, group=False):
    with _live_lock:
        _live_processes.add(p)
        if group:
            _process_groups.add(p.pid)


def unregister_process(p):
    with _live_lock:
        _live_processes.discard(p)
        _process_groups.discard(p.pid)


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

def free_port():
    """A TCP port free on all interfaces (Orthanc binds 0.0.0.0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def deep_merge(base, extra):
    """Recursively merge dict `extra` into a copy of dict `base`.
    A value None in `extra` removes the key."""
    out = copy.deepcopy(base)
    for k, v in (extra or {}).items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def wait_until(predicate, timeout=20.0, interval=0.2, message=None):
    """Poll `predicate()` until it returns a truthy value; return that value.
    Raise AssertionError (with `message` and the last exception/value) at the
    deadline."""
    deadline = time.monotonic() + timeout
    last = None
    last_exc = None
    while True:
        try:
            last = predicate()
            last_exc = None
            if last:
                return last
        except Exception as e:  # keep polling, report at the end
            last_exc = e
        if time.monotonic() >= deadline:
            detail = "last exception: %r" % (last_exc,) if last_exc else "last value: %r" % (last,)
            raise AssertionError("%s (timed out after %.1f s; %s)"
                                 % (message or "condition not met", timeout, detail))
        time.sleep(interval)


_orthanc_version = None


def orthanc_version():
    """Version of ORTHANC_BIN as a tuple, e.g. (1, 12, 7) ("mainline" builds
    count as the newest)."""
    global _orthanc_version
    if _orthanc_version is None:
        out = subprocess.run([ORTHANC_BIN, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True, timeout=30).stdout
        first = out.splitlines()[0] if out else ""
        m = re.search(r"\b(\d+)\.(\d+)\.(\d+)\b", first)
        if m:
            _orthanc_version = tuple(int(x) for x in m.groups())
        elif "mainline" in first:
            _orthanc_version = (999, 0, 0)
        else:
            raise RuntimeError("cannot read the version of %s: %r" % (ORTHANC_BIN, out[:200]))
    return _orthanc_version


def page_status(status):
    """The HTTP status of one of HospitalBridge's HTML pages (a patient's
    expired link, a wrong PIN, a printed slip) that the plugin answers with
    `status`. Orthanc 1.12.2 and later label any error answer of a plugin
    "text/plain" and browsers would show the page's source, so the plugin
    sends its pages there with 200 (the page says what happened); older
    Orthancs pass the status on."""
    return status if orthanc_version() < (1, 12, 2) else 200


def sample(name):
    """Absolute path of one of pydicom's test files."""
    p = os.path.join(SAMPLES_DIR, name)
    if not os.path.exists(p):
        raise FileNotFoundError(p)
    return p


def dicom_date(value):
    """DICOM DA 'YYYYMMDD' -> 'YYYY-MM-DD' ('' if empty/invalid)."""
    v = str(value or "").strip()
    if re.fullmatch(r"\d{8}", v):
        return "%s-%s-%s" % (v[0:4], v[4:6], v[6:8])
    return ""


def dicom_time(value):
    """DICOM TM 'HHMMSS.frac' -> 'HH:MM:SS' ('' if empty)."""
    v = str(value or "").strip()
    m = re.match(r"^(\d{2})(\d{2})?(\d{2})?", v)
    if not m:
        return ""
    return "%s:%s:%s" % (m.group(1), m.group(2) or "00", m.group(3) or "00")


def expected_study(path):
    """What /bridge/studies should say about the study of one file, as read
    by pydicom (study-level fields only)."""
    ds = pydicom.dcmread(path, stop_before_pixels=True)

    def s(tag):
        v = ds.get(tag, "")
        return "" if v is None else str(v).strip()

    return {
        "study_uid": s("StudyInstanceUID"),
        "series_uid": s("SeriesInstanceUID"),
        "sop_uid": s("SOPInstanceUID"),
        "patient_id": s("PatientID"),
        "patient_name": s("PatientName"),
        "patient_birth_date": dicom_date(s("PatientBirthDate")),
        "patient_sex": s("PatientSex"),
        "study_date": dicom_date(s("StudyDate")),
        "study_time": dicom_time(s("StudyTime")),
        "description": s("StudyDescription"),
        "accession_number": s("AccessionNumber"),
        "modality": s("Modality"),
    }


def make_variant(src, dst, new_study=True, new_series=True, study_uid=None, series_uid=None, **tags):
    """Copy a DICOM file with fresh UIDs (so each test owns its study) and
    optional tag changes (keyword=value, e.g. PatientName="X^Y").
    Returns dst."""
    ds = pydicom.dcmread(src)
    if study_uid or new_study:
        ds.StudyInstanceUID = study_uid or generate_uid()
    if series_uid or new_series:
        ds.SeriesInstanceUID = series_uid or generate_uid()
    sop = generate_uid()
    ds.SOPInstanceUID = sop
    if getattr(ds, "file_meta", None) is not None:
        ds.file_meta.MediaStorageSOPInstanceUID = sop
    for k, v in tags.items():
        setattr(ds, k, v)
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    ds.save_as(dst, write_like_original=True)
    return dst


def storescu(port, files, calling_aet="TESTSCU", called_aet="HBRIDGE", host="127.0.0.1", timeout=120):
    """Send files with DCMTK storescu (TCP_NODELAY=1). Raises on failure.
    Returns storescu's output."""
    files = [files] if isinstance(files, str) else list(files)
    env = dict(os.environ, TCP_NODELAY="1")
    cmd = ["storescu", "-v", "-aet", calling_aet, "-aec", called_aet, host, str(port)] + files
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout, universal_newlines=True)
    out = r.stdout
    bad = [l for l in out.splitlines()
           if re.search(r"^(E|F):", l) or ("Received Store Response" in l and "Success" not in l)]
    if r.returncode != 0 or bad:
        raise AssertionError("storescu failed (rc=%d):\n%s" % (r.returncode, out[-4000:]))
    n_ok = out.count("Received Store Response (Success)")
    if n_ok != len(files):
        raise AssertionError("storescu: %d/%d files stored:\n%s" % (n_ok, len(files), out[-4000:]))
    return out


# ---------------------------------------------------------------------------
# The Orthanc site
# ---------------------------------------------------------------------------

class OrthancSiteError(RuntimeError):
    pass


class OrthancSite(object):
    """One Orthanc process (with the plugin by default) in its own temp dir.

        with OrthancSite("study-index") as site:
            site.admin.get(site.url + "/bridge/studies")

    plugin=False: stock Orthanc (same JSON minus "Plugins"/"HospitalBridge").
    extra_config: dict deep-merged into orthanc.json (None values remove keys).
    admin_password: the HOSPITALBRIDGE_ADMIN_PASSWORD env value; None = unset.
    root: reuse an existing folder (storage kept); default: fresh temp dir.
    """

    def __init__(self, name="site", plugin=True, extra_config=None,
                 admin_password=DEFAULT_ADMIN_PASSWORD, root=None,
                 orthanc_args=None, start_timeout=40.0, env=None):
        self.name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        self.plugin = plugin
        self.extra_config = extra_config or {}
        self.admin_password = admin_password
        self.orthanc_args = list(orthanc_args or [])
        self.start_timeout = start_timeout
        self.extra_env = dict(env or {})
        self._own_root = root is None
        self.root = root or register_temp_dir(tempfile.mkdtemp(prefix="hb-%s-" % self.name))
        self.storage_dir = os.path.join(self.root, "storage")
        self.index_dir = os.path.join(self.root, "index")
        os.makedirs(self.storage_dir, exist_ok=True)
        os.makedirs(self.index_dir, exist_ok=True)
        self.config_path = os.path.join(self.root, "orthanc.json")
        self.log_path = os.path.join(self.root, "orthanc.log")
        self.aet = "HBRIDGE"
        self.http_port = None
        self.dicom_port = None
        self.process = None
        self._log_file = None
        self._runs = 0
        self.admin = None
        self._sessions = []
        self.config = None
        self._ports_fixed = False

    # --- configuration ---------------------------------------------------

    def build_config(self):
        cfg = {
            "Name": "HB-%s" % self.name,
            "StorageDirectory": self.storage_dir,
            "IndexDirectory": self.index_dir,
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": self.aet,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "HttpDescribeErrors": True,
            "DicomCheckCalledAet": False,
            "DicomAlwaysAllowStore": True,
            "StableAge": 2,
            "ConcurrentJobs": 1,
            "HttpThreadsCount": 20,
        }
        if self.plugin:
            cfg["Plugins"] = [PLUGIN]
            cfg["HospitalBridge"] = {
                "Site": {"Id": "HOS-001", "Name": "General Hospital"},
                "DatabasePath": "",
                "Modules": {"StudyIndex": True, "WebApp": True},
                "StudyIndex": {"RefreshDelayMs": 500, "ReconcileAtStart": True,
                               "DefaultPageSize": 50, "MaxPageSize": 500},
                "Security": {
                    "BootstrapAdmin": {"Username": ADMIN_USER,
                                       "PasswordEnvironmentVariable": "HOSPITALBRIDGE_ADMIN_PASSWORD",
                                       "PasswordFile": ""},
                    "PasswordHashIterations": 100000,
                    "SessionIdleMinutes": 30, "SessionMaxHours": 12, "CredentialCacheSeconds": 300,
                    "LoginThrottle": {"MaxFailuresPerUser": 5, "MaxFailuresPerAddress": 20,
                                      "WindowMinutes": 15, "LockoutMinutes": 15},
                    "MaxRequestBodyKilobytes": 1024,
                },
            }
        return deep_merge(cfg, self.extra_config)

    def config_text(self):
        """What is written to orthanc.json: self.config as JSON (a subclass
        may write a commented sample file instead)."""
        return json.dumps(self.config, indent=2)

    @property
    def database_path(self):
        """The plugin's SQLite file (default location)."""
        p = ((self.config or self.build_config()).get("HospitalBridge") or {}).get("DatabasePath") or ""
        return p or os.path.join(self.index_dir, "hospitalbridge.db")

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.http_port

    # --- lifecycle -------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _env(self):
        env = dict(os.environ)
        env["TCP_NODELAY"] = "1"
        env.pop("HOSPITALBRIDGE_ADMIN_PASSWORD", None)
        if self.admin_password is not None:
            env["HOSPITALBRIDGE_ADMIN_PASSWORD"] = self.admin_password
        env.update(self.extra_env)
        return env

    def launch(self, plugin=None):
        """Start the process without waiting for readiness."""
        if self.process is not None and self.process.poll() is None:
            raise OrthancSiteError("already running")
        if plugin is not None:
            self.plugin = plugin
        if self.plugin and not os.path.exists(PLUGIN):
            raise OrthancSiteError("plugin not built: %s (set HB_PLUGIN)" % PLUGIN)
        if self.http_port is None:
            self._choose_ports()
        self.config = self.build_config()
        with open(self.config_path, "w") as f:
            f.write(self.config_text())
        self._runs += 1
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(("\n===== run %d (%s, plugin=%s) =====\n"
                              % (self._runs, datetime.datetime.utcnow().isoformat(), self.plugin)).encode())
        self._log_file.flush()
        self._log_offset = self._log_file.tell()
        self.process = subprocess.Popen(
            [ORTHANC_BIN] + self.orthanc_args + [self.config_path],
            stdout=self._log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=self._env(), cwd=self.root, preexec_fn=_pdeathsig)
        register_process(self.process)
        return self.process

    def start(self, plugin=None, wait=True):
        """Start Orthanc; retry with new ports if they were taken meanwhile."""
        for attempt in range(4):
            self.launch(plugin=plugin)
            if not wait:
                return self
            try:
                self.wait_ready()
                break
            except OrthancSiteError:
                log = self.run_log_text()
                port_taken = re.search(r"privileged or already in use|Address already in use", log)
                if (self.process.poll() is not None and port_taken and attempt < 3
                        and not self._ports_fixed):
                    self.stop()
                    self.http_port = self.dicom_port = None
                    continue
                self.stop()
                raise
        self._make_admin_session()
        return self

    def _choose_ports(self):
        self.http_port = free_port()
        self.dicom_port = free_port()
        while self.dicom_port == self.http_port:
            self.dicom_port = free_port()

    def allocate_ports(self):
        """Choose the HTTP and DICOM ports now, before start(), so that other
        sites' configurations can name this one (federation peers). Ports
        chosen this way are kept: start() then fails instead of moving to
        other ports if they were taken meanwhile. Returns self."""
        if self.http_port is None:
            self._choose_ports()
        self._ports_fixed = True
        return self

    @property
    def site_id(self):
        """HospitalBridge.Site.Id of this site's configuration."""
        cfg = self.config or self.build_config()
        return ((cfg.get("HospitalBridge") or {}).get("Site") or {}).get("Id", "")

    @property
    def site_name(self):
        cfg = self.config or self.build_config()
        return ((cfg.get("HospitalBridge") or {}).get("Site") or {}).get("Name", "")

    def _make_admin_session(self):
        self.admin = self.session(ADMIN_USER, self.admin_password) if (
            self.plugin and self.admin_password is not None) else self.session()

    def readiness_probe(self):
        """(ok, description) for the readiness request. Also checks, with
        GET /system, that the answer comes from this process (not from
        another test's Orthanc that grabbed the same port)."""
        nop = {"http": None, "https": None}
        auth = (ADMIN_USER, self.admin_password or "") if self.plugin else None
        if self.plugin:
            r = requests.get(self.url + "/bridge/system", auth=auth, timeout=5, proxies=nop)
            if r.status_code != 200:
                return False, "/bridge/system: %s %s" % (r.status_code, r.text[:300])
        r = requests.get(self.url + "/system", auth=auth, timeout=5, proxies=nop)
        if r.status_code != 200:
            return False, "/system: %s %s" % (r.status_code, r.text[:300])
        info = r.json()
        if info.get("DicomPort") != self.dicom_port or info.get("Name") != self.config.get("Name"):
            return False, "another Orthanc answers on port %d: %r" % (self.http_port, info)
        return self.process.poll() is None, "ok"

    def wait_ready(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.start_timeout)
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise OrthancSiteError("Orthanc exited with code %s before being ready. Log tail:\n%s"
                                       % (self.process.returncode, self.run_log_text()[-5000:]))
            if self.plugin and re.search(r"Inexistent path to plugins|Cannot load plugin|"
                                         r"not a valid Orthanc plugin", self.run_log_text()):
                raise OrthancSiteError("Orthanc could not load the plugin. Log tail:\n%s"
                                       % self.run_log_text()[-5000:])
            try:
                ok, last = self.readiness_probe()
                if ok:
                    return
            except requests.RequestException as e:
                last = repr(e)
            time.sleep(0.2)
        raise OrthancSiteError("Orthanc not ready after %.0f s (last: %s). Log tail:\n%s"
                               % (timeout or self.start_timeout, last, self.run_log_text()[-5000:]))

    def wait_exit(self, timeout=20.0):
        """For start-failure tests: the exit code, or None if still running."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=20.0):
        for s in self._sessions:
            try:
                s.close()
            except Exception:
                pass
        self._sessions = []
        p = self.process
        if p is not None:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
            unregister_process(p)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return p.returncode if p is not None else None

    def restart(self, plugin=None):
        self.stop()
        return self.start(plugin=plugin)

    def close(self):
        """Stop, copy the log to HB_ARTIFACTS, remove the temp dir."""
        try:
            self.stop()
        finally:
            try:
                if os.path.exists(self.log_path):
                    dst = os.path.join(artifacts_dir(), "orthanc-%s-%d-%d.log"
                                       % (self.name, os.getpid(), int(time.time() * 1000) % 100000000))
                    shutil.copyfile(self.log_path, dst)
            except Exception:
                pass
            if self._own_root and not os.environ.get("HB_KEEP_TEMP"):
                shutil.rmtree(self.root, ignore_errors=True)

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    # --- logs ------------------------------------------------------------

    def log_text(self):
        """Everything Orthanc printed (all runs of this site)."""
        if self._log_file is not None:
            self._log_file.flush()
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def run_log_text(self):
        """What the current/last run printed."""
        text = self.log_text()
        i = text.rfind("\n===== run %d " % self._runs)
        return text[i:] if i >= 0 else text

    # --- HTTP ------------------------------------------------------------

    def session(self, username=None, password=None):
        """A requests.Session; Basic auth if username is given. The
        environment's proxies are ignored (loopback)."""
        s = requests.Session()
        s.trust_env = False
        if username is not None:
            s.auth = (username, password or "")
        self._sessions.append(s)
        return s

    def create_user(self, username, role, password=None, expect_status=200):
        """POST /bridge/users as admin; returns the password used."""
        # Never derived from the user name: the password policy refuses that.
        password = password or ("Pw-%s!x" % generate_uid()[-16:])
        r = self.admin.post(self.url + "/bridge/users",
                            json={"username": username, "password": password, "role": role}, timeout=30)
        if expect_status is not None and r.status_code not in (
                (200, 201) if expect_status == 200 else (expect_status,)):
            raise AssertionError("POST /bridge/users %s/%s -> %d %s"
                                 % (username, role, r.status_code, r.text[:500]))
        return password

    def user_session(self, username, role, password=None):
        """Create a user and return a Basic-auth session for it."""
        pw = self.create_user(username, role, password)
        return self.session(username, pw)

    def storescu(self, files, calling_aet="TESTSCU"):
        return storescu(self.dicom_port, files, calling_aet=calling_aet, called_aet=self.aet)

    def upload(self, path, session=None):
        """POST /instances (REST upload)."""
        s = session or self.admin
        with open(path, "rb") as f:
            return s.post(self.url + "/instances", data=f.read(),
                          headers={"Content-Type": "application/dicom"}, timeout=60)

    def orthanc_study_id(self, study_uid, session=None):
        """Orthanc's own answer from /tools/lookup (None if unknown)."""
        s = session or self.admin
        r = s.post(self.url + "/tools/lookup", data=study_uid, timeout=30)
        r.raise_for_status()
        ids = [x["ID"] for x in r.json() if x.get("Type") == "Study"]
        return ids[0] if ids else None

    # --- /bridge/studies helpers ------------------------------------------

    def bridge_study(self, uid, session=None):
        """GET /bridge/studies/{uid}: the study, or None on 404."""
        s = session or self.admin
        r = s.get(self.url + "/bridge/studies/" + uid, timeout=30)
        if r.status_code == 404:
            return None
        r.raise_for_status()
        return r.json()

    def wait_indexed(self, uid, timeout=20.0, predicate=None):
        """Wait until /bridge/studies/{uid} exists (and predicate(study))."""
        def probe():
            st = self.bridge_study(uid)
            if st is None:
                return None
            if predicate is not None and not predicate(st):
                return None
            return st
        return wait_until(probe, timeout, message="study %s not (fully) indexed" % uid)

    def wait_idle(self, timeout=20.0):
        """Wait until /bridge/system says the index queue is empty."""
        def probe():
            r = self.admin.get(self.url + "/bridge/system", timeout=30)
            r.raise_for_status()
            idx = r.json().get("index", {})
            return idx.get("queue_depth") == 0 and idx.get("state") == "idle"
        return wait_until(probe, timeout, message="index not idle")


# ---------------------------------------------------------------------------
# Several sites wired as federation peers
# ---------------------------------------------------------------------------

def peer_name(site_id):
    """Name of a site in the others' "OrthancPeers" (e.g. "hos-002")."""
    return site_id.lower()


def peer_username(site_id):
    """User name a site has at the other sites (role peer), e.g. "hos-001"."""
    return site_id.lower()


class Federation(object):
    """What federate() set up. credentials[(caller_id, callee_id)] is the
    (username, password) the caller's Orthanc uses at the callee."""

    def __init__(self, sites):
        self.sites = list(sites)
        self.by_id = {s.site_id: s for s in self.sites}
        self.credentials = {}

    def peer_session(self, caller, callee):
        """A Basic-auth session at `callee` with the peer account of `caller`
        (OrthancSite objects or site ids)."""
        caller = caller.site_id if isinstance(caller, OrthancSite) else caller
        callee = self.by_id[callee] if not isinstance(callee, OrthancSite) else callee
        user, pw = self.credentials[(caller, callee.site_id)]
        return callee.session(user, pw)


def federate(sites, register_sites=True, start=True):
    """Wire OrthancSites (not started yet, each with its own
    HospitalBridge.Site.Id in extra_config) as federation peers:

    1. choose every site's ports;
    2. add to each site's "OrthancPeers" the others, named peer_name(id),
       with a fresh password per (caller, callee) pair (existing peers in
       extra_config are kept);
    3. start the sites (in parallel);
    4. create at each site a user peer_username(caller) with role "peer"
       for every other site;
    5. register at each site the others (POST /bridge/sites with
       orthanc_peer) under their configured id and name.

    Returns a Federation. The caller closes the sites (register
    addClassCleanup(site.close) before calling this)."""
    fed = Federation(sites)
    ids = [s.site_id for s in sites]
    if len(set(ids)) != len(ids):
        raise ValueError("sites need distinct HospitalBridge.Site.Id: %r" % ids)
    for s in sites:
        s.allocate_ports()
    for a in sites:
        peers = {}
        for b in sites:
            if b is a:
                continue
            pw = "Peer-%s-%s-%s" % (a.site_id[-3:], b.site_id[-3:], generate_uid()[-12:])
            fed.credentials[(a.site_id, b.site_id)] = (peer_username(a.site_id), pw)
            peers[peer_name(b.site_id)] = {"Url": b.url + "/", "Username": peer_username(a.site_id),
                                           "Password": pw}
        a.extra_config = deep_merge(a.extra_config, {"OrthancPeers": peers})
    if not start:
        return fed

    # Launched from this thread (PR_SET_PDEATHSIG is tied to the thread
    # that forks: a child started from a helper thread would be killed when
    # that thread ends), then awaited together.
    try:
        for s in sites:
            s.launch()
        for s in sites:
            s.wait_ready()
            s._make_admin_session()
    except BaseException:
        for s in sites:
            s.stop()
        raise

    for (caller, callee), (user, pw) in sorted(fed.credentials.items()):
        fed.by_id[callee].create_user(user, "peer", pw)
    if register_sites:
        for a in sites:
            for b in sites:
                if b is a:
                    continue
                r = a.admin.post(a.url + "/bridge/sites", timeout=30, json={
                    "id": b.site_id, "name": b.site_name, "orthanc_peer": peer_name(b.site_id)})
                if r.status_code not in (200, 201):
                    raise AssertionError("POST %s/bridge/sites %s -> %d %s"
                                         % (a.url, b.site_id, r.status_code, r.text[:500]))
    return fed
