#!/usr/bin/env python3
"""The Debian package, installed and used as a hospital admin would, in fresh
roots of one Debian release (run by scripts/test-package.sh, as root).

Each scenario gets its own root: an overlay on the cached base root (a minimal
apt system with Debian's orthanc), thrown away at the end. Orthanc is started
the way Debian's orthanc.service starts it, read from the unit and its
drop-ins in the root (ExecStart, User, Group, Environment), without systemd:
the same binary and arguments, as user orthanc, with a clean environment. Its
HTTP and DICOM ports are moved to free ones (the roots share this machine's
network); clients (requests, storescu) run on the host.

Scenarios:
  upgrade   install the previous version, sign in, make a user, a study and a
            share link; upgrade to this version while Orthanc runs, restart:
            users, shares and the audit trail kept and verified, schema
            migrated; a backup while storescu sends instances; restore refused
            while Orthanc runs and for a newer schema (nothing changed), then
            restored and verified; remove (Orthanc starts without the plugin)
            and purge (asks nothing, keeps the database)
  fresh     install this version into a fresh root: /bridge/system answers with
            this Orthanc's version, the admin signs in with the generated
            password; without an administrator yet, a missing password file
            with RemoteAccessAllowed true stops Orthanc, its log says why
  older     (Debian 12 with --other-release-deb) the Debian 13 package next to
            Orthanc 1.10.1: apt refuses, naming the version
"""

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import orthanc_harness as h  # noqa: E402  (free_port, make_variant, sample, wait_until)
import requests  # noqa: E402

PASSWORD_FILE = "/etc/hospitalbridge/admin-password"
CONFIG_LINK = "/etc/orthanc/hospitalbridge.json"
LOAD_INSTANCES = 300  # sent over C-STORE while the backup runs
CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Failure(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def log(message):
    print("  " + message, flush=True)


def deb_field(deb, field):
    return subprocess.run(["dpkg-deb", "-f", deb, field], check=True, stdout=subprocess.PIPE,
                          universal_newlines=True).stdout.strip()


# ---------------------------------------------------------------------------
# A throw-away root: an overlay on the base root
# ---------------------------------------------------------------------------

class Root(object):
    def __init__(self, base, work, name):
        self.dir = os.path.join(work, name)
        self.path = os.path.join(self.dir, "root")
        self.mounts = []
        if os.path.exists(self.dir):
            self._unmount_stale()
            shutil.rmtree(self.dir)
        for sub in ("upper", "work", "root"):
            os.makedirs(os.path.join(self.dir, sub))
        self._mount(["-t", "overlay", "overlay", "-o", "lowerdir=%s,upperdir=%s,workdir=%s" % (
            base, os.path.join(self.dir, "upper"), os.path.join(self.dir, "work")), self.path])
        self._mount(["-t", "proc", "proc", self.path + "/proc"])
        self._mount(["--bind", "/dev", self.path + "/dev"])
        shutil.copy("/etc/resolv.conf", self.path + "/etc/resolv.conf")

    def _mount(self, args):
        subprocess.run(["mount"] + args, check=True)
        self.mounts.append(args[-1])

    def _unmount_stale(self):
        with open("/proc/self/mountinfo") as f:
            points = [l.split()[4] for l in f]
        for point in sorted((p for p in points if p.startswith(self.dir + "/")), reverse=True):
            subprocess.run(["umount", "-l", point])

    def processes(self):
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.readlink("/proc/%s/root" % entry) == self.path:
                        pids.append(int(entry))
                except OSError:
                    pass
        return pids

    def close(self):
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.2)
        for point in reversed(self.mounts):
            if subprocess.run(["umount", point]).returncode != 0:
                subprocess.run(["umount", "-l", point])
        self.mounts = []
        shutil.rmtree(self.dir, ignore_errors=True)

    def file(self, path):
        return self.path + path

    def read(self, path):
        with open(self.file(path)) as f:
            return f.read()

    def run(self, command, check_status=True, env=None, stdin=subprocess.DEVNULL, timeout=600):
        """Runs a shell command in the root as root; returns (status, output)."""
        environment = ["HOME=/root", "LANG=C.UTF-8", "PATH=" + CHROOT_PATH] + ["%s=%s" % kv for kv in (env or {}).items()]
        r = subprocess.run(["chroot", self.path, "/usr/bin/env", "-i"] + environment + ["/bin/sh", "-c", command],
                           stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=timeout)
        if check_status and r.returncode != 0:
            raise Failure("in the root: %s\nexit %d:\n%s" % (command, r.returncode, r.stdout[-4000:]))
        return r.returncode, r.stdout

    def install(self, deb, check_status=True):
        """apt install ./<deb>, as the README says, asking nothing."""
        inside = "/tmp/packages/" + os.path.basename(deb)
        os.makedirs(self.file("/tmp/packages"), exist_ok=True)
        shutil.copy(deb, self.file(inside))
        os.chmod(self.file(inside), 0o644)
        return self.run("apt-get install -y --no-install-recommends " + shlex.quote(inside), check_status)

    def set_option(self, name, value):
        """Changes one top-level option of Debian's /etc/orthanc/orthanc.json."""
        path = self.file("/etc/orthanc/orthanc.json")
        with open(path) as f:
            text = f.read()
        text, count = re.subn(r'(?m)^(\s*)"%s"\s*:\s*[^,\n]+' % re.escape(name),
                              lambda m: '%s"%s" : %s' % (m.group(1), name, json.dumps(value)), text, count=1)
        check(count == 1, "no option %s in orthanc.json" % name)
        with open(path, "w") as f:
            f.write(text)

    def md5(self, path):
        with open(self.file(path), "rb") as f:
            return hashlib.md5(f.read()).hexdigest()


# ---------------------------------------------------------------------------
# Orthanc as Debian's orthanc.service starts it
# ---------------------------------------------------------------------------

class Service(object):
    UNIT_DIRS = ["/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"]

    def __init__(self, root, http_port, dicom_port):
        self.root = root
        self.http_port = http_port
        self.dicom_port = dicom_port
        self.process = None
        self.output = None
        root.set_option("HttpPort", http_port)
        root.set_option("DicomPort", dicom_port)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.http_port

    def unit(self):
        """ExecStart, User, Group and the Environment of orthanc.service and
        of its drop-ins (in systemd's order: by file name, /etc first)."""
        settings = {"Environment": []}
        unit_file = next((d + "/orthanc.service" for d in self.UNIT_DIRS
                          if os.path.exists(self.root.file(d + "/orthanc.service"))), None)
        check(unit_file is not None, "no orthanc.service in the root")
        files = [unit_file]
        dropins = {}
        for d in reversed(self.UNIT_DIRS):
            folder = self.root.file(d + "/orthanc.service.d")
            if os.path.isdir(folder):
                for name in os.listdir(folder):
                    if name.endswith(".conf"):
                        dropins[name] = d + "/orthanc.service.d/" + name
        files += [dropins[name] for name in sorted(dropins)]
        for path in files:
            for line in self.root.read(path).splitlines():
                m = re.match(r"^\s*(ExecStart|User|Group|Environment)\s*=\s*(.*?)\s*$", line)
                if not m:
                    continue
                key, value = m.groups()
                if key == "Environment":
                    settings["Environment"] += shlex.split(value)
                else:
                    settings[key] = value
        settings["dropins"] = files[1:]
        return settings

    def start(self, wait=True):
        unit = self.unit()
        self.environment = unit["Environment"]
        command = ["chroot", self.root.path, "/usr/bin/setpriv", "--reuid=" + unit["User"],
                   "--regid=" + unit["Group"], "--init-groups", "--", "/usr/bin/env", "-i",
                   "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "LANG=C.UTF-8"] + \
            unit["Environment"] + shlex.split(unit["ExecStart"])
        self.output_path = os.path.join(self.root.dir, "orthanc-%d.out" % time.time_ns())
        self.output = open(self.output_path, "w")
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self.output,
                                        stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()

    def answering(self):
        try:
            requests.get(self.url + "/bridge/app/", timeout=2)
            return True
        except requests.RequestException:
            return False

    def wait_ready(self, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise Failure("Orthanc stopped at start (exit %s):\n%s" % (self.process.returncode, self.logs()[-3000:]))
            if self.answering():
                return
            time.sleep(0.2)
        raise Failure("Orthanc does not answer after %d s:\n%s" % (timeout, self.logs()[-3000:]))

    def wait_exit(self, timeout=60):
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure("Orthanc still runs after %d s:\n%s" % (timeout, self.logs()[-3000:]))

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.output.close()

    def logs(self):
        """What the journal would hold (standard output and error) and the
        log files Orthanc writes into --logdir (/var/log/orthanc)."""
        text = ""
        if self.output is not None:
            self.output.flush()
            with open(self.output_path, errors="replace") as f:
                text += f.read()
        folder = self.root.file("/var/log/orthanc")
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, errors="replace") as f:
                    text += "\n[%s]\n%s" % (name, f.read())
        return text


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------

def admin(service, password):
    s = requests.Session()
    s.auth = ("admin", password)
    return s


def get_json(session, url, expect=200):
    r = session.get(url, timeout=60)
    check(r.status_code == expect, "GET %s: %d %s" % (url, r.status_code, r.text[:300]))
    return r.json() if expect == 200 else None


def sign_in(service, password):
    """The browser's sign-in: POST /bridge/login sets the session cookie."""
    s = requests.Session()
    r = s.post(service.url + "/bridge/login", json={"username": "admin", "password": password}, timeout=60)
    check(r.status_code == 200, "admin cannot sign in: %d %s" % (r.status_code, r.text[:300]))
    check("hb_session" in s.cookies, "no session cookie after sign-in")
    me = get_json(s, service.url + "/bridge/me")
    check(me["role"] == "admin", "signed in as %r" % me)
    return s


def verify_audit(session, service):
    answer = get_json(session, service.url + "/bridge/audit/verify")
    check(answer.get("ok") is True, "audit chain does not verify: %r" % answer)
    return answer


def expected_orthanc_version(root):
    _, version = root.run("dpkg-query -W -f='${Version}' orthanc")
    return re.match(r"^(?:\d+:)?(\d+\.\d+\.\d+)", version).group(1)


def check_system(service, session, root, plugin_version, schema=None):
    system = get_json(session, service.url + "/bridge/system")
    orthanc = expected_orthanc_version(root)
    check(system["orthanc"]["version"] == orthanc,
          "/bridge/system says Orthanc %s, the root has %s" % (system["orthanc"]["version"], orthanc))
    check(system["plugin"]["version"] == plugin_version,
          "/bridge/system says HospitalBridge %s, expected %s" % (system["plugin"]["version"], plugin_version))
    if schema is not None:
        check(system["database"]["schema_version"] == schema,
              "schema %s, expected %s" % (system["database"]["schema_version"], schema))
    return system


def make_study(folder, index, instances=1, patient_id=None):
    """Files of one new study (pydicom's CT sample with fresh UIDs)."""
    study_uid = h.generate_uid()
    series_uid = h.generate_uid()
    paths = []
    for i in range(instances):
        paths.append(h.make_variant(h.sample("CT_small.dcm"), os.path.join(folder, "s%03d-%03d.dcm" % (index, i)),
                                    study_uid=study_uid, series_uid=series_uid,
                                    PatientID=patient_id or "90%07d" % index, PatientName="PACKAGE^TEST%d" % index))
    return study_uid, paths


def load_files(work):
    """LOAD_INSTANCES files in 30 studies, made once and kept."""
    folder = os.path.join(work, "..", "load-dicom")
    stamp = os.path.join(folder, "complete-%d" % LOAD_INSTANCES)
    if not os.path.exists(stamp):
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        per_study = LOAD_INSTANCES // 30
        for index in range(30):
            make_study(folder, index, per_study)
        open(stamp, "w").close()
    return sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".dcm"))


def storescu_process(service, files, output):
    env = dict(os.environ, TCP_NODELAY="1")
    return subprocess.Popen(["storescu", "-aet", "LOADSCU", "-aec", "ORTHANC", "127.0.0.1",
                             str(service.dicom_port)] + files, env=env, stdout=output, stderr=subprocess.STDOUT)


# Where the plugin puts it with Debian's orthanc.json (IndexDirectory).
DATABASE = "/var/lib/orthanc/db-v6/hospitalbridge.db"


def integrity(root, database):
    # As the database's owner, like Orthanc: no side file of root's.
    _, out = root.run("runuser -u orthanc -- sqlite3 %s 'PRAGMA integrity_check;'" % shlex.quote(database))
    return out.strip()


# ---------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------

def check_installed_files(root, deb):
    check(os.path.islink(root.file(CONFIG_LINK)), "%s is not linked" % CONFIG_LINK)
    check(os.path.exists(root.file("/usr/share/orthanc/plugins/libHospitalBridge.so")), "plugin not in place")
    st = os.stat(root.file(PASSWORD_FILE))
    check(oct(st.st_mode & 0o777) == "0o600", "password file mode %s" % oct(st.st_mode & 0o777))
    _, owner = root.run("stat -c %U:%G " + PASSWORD_FILE)
    check(owner.strip() == "orthanc:orthanc", "password file owned by %s" % owner.strip())
    password = root.read(PASSWORD_FILE).strip()
    check(len(password) >= 24, "generated password too short")
    return password


def scenario_upgrade(args, work):
    root = Root(args.base, work, "upgrade")
    service = None
    try:
        previous_version = deb_field(args.previous, "Version")
        current_version = deb_field(args.deb, "Version")
        log("install the previous version %s" % previous_version)
        _, out = root.install(args.previous)
        password = check_installed_files(root, args.previous)
        check(password not in out, "the password was printed by the installation")
        check(PASSWORD_FILE in out, "the installation does not say where the password is:\n" + out[-2000:])
        service = Service(root, h.free_port(), h.free_port())
        unit = service.unit()
        check(any(d.endswith("orthanc.service.d/hospitalbridge.conf") for d in unit["dropins"]),
              "the drop-in is not found: %r" % unit["dropins"])
        check("TCP_NODELAY=1" in unit["Environment"], "drop-in environment: %r" % unit["Environment"])
        log("unit: %s as %s, environment %s" % (unit["ExecStart"], unit["User"], " ".join(unit["Environment"])))
        service.start()
        session = admin(service, password)
        before = check_system(service, session, root, args.plugin_version_previous)
        log("previous plugin %s on Orthanc %s, schema %s" % (
            before["plugin"]["version"], before["orthanc"]["version"], before["database"]["schema_version"]))

        # Data the upgrade must keep.
        r = session.post(service.url + "/bridge/users", json={
            "username": "radiologist1", "password": "Radiology-Package-Test-1", "role": "radiologist"}, timeout=60)
        check(r.status_code == 200, "create user: %d %s" % (r.status_code, r.text[:300]))
        study_uid, files = make_study(os.path.join(root.dir, "dicom"), 900, 2, patient_id="1234567890")
        for path in files:
            with open(path, "rb") as f:
                r = session.post(service.url + "/instances", data=f.read(), timeout=60)
            check(r.status_code == 200, "upload: %d %s" % (r.status_code, r.text[:300]))
        h.wait_until(lambda: session.get(service.url + "/bridge/studies/" + study_uid, timeout=30).status_code == 200,
                     timeout=60, message="study indexed")
        r = session.post(service.url + "/bridge/shares", json={
            "study": study_uid, "consent_attested": True, "second_factor": "pin"}, timeout=60)
        check(r.status_code == 200, "create share: %d %s" % (r.status_code, r.text[:300]))
        share = r.json()["share"]
        share_id = share["id"]
        audit_before = verify_audit(session, service)
        log("user radiologist1, study %s, share %s, %d audit events" % (
            study_uid, share_id, audit_before["events_checked"]))

        log("upgrade to %s while Orthanc runs" % current_version)
        _, out = root.install(args.deb)
        check(password not in out, "the upgrade printed the password")
        check(root.read(PASSWORD_FILE).strip() == password, "the upgrade changed the password file")
        check(service.process.poll() is None, "Orthanc stopped when its plugin file was replaced")
        # What the postinst's "deb-systemd-invoke try-restart" does under systemd.
        service.stop()
        service.start()
        session = admin(service, password)
        after = check_system(service, session, root, args.plugin_version, args.schema)
        check(after["database"]["schema_version"] >= before["database"]["schema_version"], "schema went back")
        log("after the upgrade: plugin %s, schema %s -> %s" % (
            after["plugin"]["version"], before["database"]["schema_version"], after["database"]["schema_version"]))
        users = {u["username"] for u in get_json(session, service.url + "/bridge/users")["users"]}
        check("radiologist1" in users, "users after the upgrade: %r" % users)
        kept = get_json(session, service.url + "/bridge/shares/%s" % share_id)
        check(str(kept.get("id", kept.get("share", {}).get("id"))) == str(share_id), "share after upgrade: %r" % kept)
        audit_after = verify_audit(session, service)
        check(audit_after["events_checked"] >= audit_before["events_checked"], "audit events lost")
        sign_in(service, password)
        log("kept: users, share %s, %d audit events (verified); admin signs in" % (share_id, audit_after["events_checked"]))

        # Backup while instances arrive over C-STORE.
        files = load_files(work)
        load_log = open(os.path.join(root.dir, "storescu.log"), "w")
        sender = storescu_process(service, files, load_log)
        h.wait_until(lambda: get_json(session, service.url + "/statistics")["CountInstances"] >= 40 or
                     sender.poll() is not None, timeout=60, message="C-STORE started")
        # Backups one after another while storescu sends (each checks its
        # copy with integrity_check); the last taken under load is restored.
        backups = []
        while sender.poll() is None or not backups:
            started = time.time()
            name = "/root/backup-%d" % (len(backups) + 1)
            _, out = root.run("hospitalbridge-admin backup " + name)
            during = sender.poll() is None
            if during or not backups:
                backups.append(name)
            log("%s in %.1f s, storescu %s, %d instances stored" % (
                name, time.time() - started, "still sending" if during else "done",
                get_json(session, service.url + "/statistics")["CountInstances"]))
            if not during:
                break
            time.sleep(0.3)
        check(sender.wait(300) == 0, "storescu failed: see %s" % load_log.name)
        load_log.close()
        backup = backups[-1]
        manifest = json.loads(root.read(backup + "/manifest.json"))
        check(manifest["schema_version"] == args.schema and manifest["integrity_check"] == "ok",
              "manifest: %r" % manifest)
        check(manifest["hospitalbridge_version"] == current_version, "manifest version %r" % manifest)
        for name in ("hospitalbridge.db", "hospitalbridge.db.slip-key"):
            mode = os.stat(root.file(backup + "/" + name)).st_mode & 0o777
            check(mode == 0o600, "%s in the backup has mode %o" % (name, mode))
        check(os.path.isdir(root.file(backup + "/config/orthanc")) and
              os.path.exists(root.file(backup + "/config/hospitalbridge/hospitalbridge.json")),
              "configuration missing in the backup")
        check(os.stat(root.file(backup)).st_mode & 0o077 == 0, "backup folder readable by others")

        database = DATABASE
        status, out = root.run("hospitalbridge-admin restore " + backup, check_status=False)
        check(status == 4 and "Orthanc is running" in out, "restore while Orthanc runs: exit %d %s" % (status, out))
        log("restore while Orthanc runs: refused (%s)" % out.strip().splitlines()[-1][:100])
        service.stop()

        # A backup from a newer HospitalBridge: refused, nothing overwritten.
        root.run("cp -a %s /root/backup-future && " % backup +
                 "sqlite3 /root/backup-future/hospitalbridge.db "
                 "\"INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '999_future.sql', 0);\"")
        before_files = {p: root.md5(p) for p in (database, database + ".slip-key")}
        listing = sorted(os.listdir(root.file(os.path.dirname(database))))
        status, out = root.run("hospitalbridge-admin restore /root/backup-future", check_status=False)
        check(status == 3 and "newer" in out and "999" in out, "newer backup: exit %d %s" % (status, out))
        check({p: root.md5(p) for p in before_files} == before_files, "a refused restore changed the database")
        check(sorted(os.listdir(root.file(os.path.dirname(database)))) == listing,
              "a refused restore changed the database folder")
        log("restore of a newer schema: refused, nothing changed (%s)" % out.strip()[:140])

        status, out = root.run("hospitalbridge-admin restore " + backup)
        aside = re.search(r"are in (\S+)", out)
        check(aside and os.path.exists(root.file(aside.group(1) + "/hospitalbridge.db")), "nothing kept aside: " + out)
        log("restored; replaced files kept in %s" % aside.group(1))
        service.start()
        session = admin(service, password)
        check_system(service, session, root, args.plugin_version, args.schema)
        result = integrity(root, database)
        check(result == "ok", "integrity_check of the restored database: " + result)
        restored_audit = verify_audit(session, service)
        users = {u["username"] for u in get_json(session, service.url + "/bridge/users")["users"]}
        check("radiologist1" in users, "users after restore: %r" % users)
        get_json(session, service.url + "/bridge/shares/%s" % share_id)
        sign_in(service, password)
        log("restored database: integrity_check ok, audit verifies (%d events), users and share there" %
            restored_audit["events_checked"])
        service.stop()

        # Remove: Orthanc starts again, without the plugin and without the
        # configuration that turns its own authentication off.
        root.run("apt-get remove -y hospitalbridge")
        check(not os.path.lexists(root.file(CONFIG_LINK)), "configuration still linked after remove")
        check(os.path.exists(root.file("/etc/hospitalbridge/hospitalbridge.json")), "conffile gone after remove")
        check(os.path.exists(root.file(database)), "database gone after remove")
        service.start()
        r = requests.get(service.url + "/bridge/system", timeout=10)
        check(r.status_code == 404, "after remove /bridge/system answers %d" % r.status_code)
        check(requests.get(service.url + "/system", timeout=10).status_code == 200, "stock Orthanc does not answer")
        service.stop()
        log("removed: Orthanc starts without the plugin; configuration unlinked, database kept")
        status, out = root.run("apt-get purge -y hospitalbridge", stdin=subprocess.DEVNULL)
        check(not os.path.exists(root.file("/etc/hospitalbridge")), "/etc/hospitalbridge left after purge")
        check(os.path.exists(root.file(database)) and os.path.exists(root.file(database + ".slip-key")),
              "purge deleted the database or its slip key")
        _, state = root.run("dpkg-query -W -f='${db:Status-Abbrev}' hospitalbridge 2>/dev/null || true")
        check(not state.startswith("ii"), "still installed after purge: %r" % state)
        log("purged without a question: /etc/hospitalbridge gone, database and slip key kept")
    except Exception:
        if service is not None:
            print(service.logs()[-4000:], file=sys.stderr)
        raise
    finally:
        if service is not None:
            service.stop()
        root.close()


def scenario_fresh(args, work):
    root = Root(args.base, work, "fresh")
    service = None
    try:
        log("install %s into a fresh root" % deb_field(args.deb, "Version"))
        root.install(args.deb)
        password = check_installed_files(root, args.deb)
        service = Service(root, h.free_port(), h.free_port())
        service.start()
        session = sign_in(service, password)
        system = check_system(service, session, root, args.plugin_version, args.schema)
        log("/bridge/system: HospitalBridge %s on Orthanc %s, schema %s; admin signed in" % (
            system["plugin"]["version"], system["orthanc"]["version"], system["database"]["schema_version"]))
        service.stop()

        # As at a first start with remote access on and no password file.
        root.run("rm -f %s* %s" % (DATABASE, PASSWORD_FILE))
        root.set_option("RemoteAccessAllowed", True)
        service.start(wait=False)
        status = service.wait_exit(90)
        text = service.logs()
        check(status != 0, "Orthanc exited with 0")
        check("PasswordFile" in text and PASSWORD_FILE in text, "the log does not say why:\n" + text[-3000:])
        line = next(l for l in text.splitlines() if "PasswordFile" in l)
        log("missing password file, remote access on: Orthanc exits %d; log: %s" % (status, line.strip()[:160]))
    except Exception:
        if service is not None:
            print(service.logs()[-4000:], file=sys.stderr)
        raise
    finally:
        if service is not None:
            service.stop()
        root.close()


def scenario_older(args, work):
    root = Root(args.base, work, "older")
    try:
        needed = re.search(r"orthanc \(>= ([0-9.]+)\)", deb_field(args.other_release_deb, "Depends")).group(1)
        status, out = root.install(args.other_release_deb, check_status=False)
        orthanc = expected_orthanc_version(root)
        check(status != 0, "apt installed %s next to Orthanc %s" % (args.other_release_deb, orthanc))
        line = next((l for l in out.splitlines() if "orthanc (>= %s)" % needed in l), None)
        check(line is not None and orthanc in line, "apt's refusal does not name the versions:\n" + out[-2000:])
        _, state = root.run("dpkg-query -W -f='${db:Status-Abbrev}' hospitalbridge 2>/dev/null || true")
        check(not state.startswith("ii"), "installed anyway")
        log("package for Orthanc >= %s next to Orthanc %s: refused: %s" % (needed, orthanc, line.strip()))
    finally:
        root.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--release", required=True)
    parser.add_argument("--base", required=True, help="the cached base root of that release")
    parser.add_argument("--work", required=True, help="folder for the overlays and logs")
    parser.add_argument("--deb", required=True, help="this version's package for that release")
    parser.add_argument("--previous", required=True, help="the previous version's package")
    parser.add_argument("--other-release-deb", help="a package needing a newer Orthanc (older scenario)")
    parser.add_argument("--only", help="run only this scenario")
    parser.add_argument("--source", help="the sources the package was built from (for its schema version)",
                        default=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    args = parser.parse_args()
    source = args.source

    def upstream(deb):
        # The plugin reports CMakeLists.txt's version, without the package's suffixes.
        return re.match(r"^([0-9.]+)", deb_field(deb, "Version")).group(1)

    args.plugin_version = upstream(args.deb)
    args.plugin_version_previous = upstream(args.previous)
    migrations = [n for n in os.listdir(os.path.join(source, "Resources", "Migrations")) if n.endswith(".sql")]
    args.schema = max(int(n.split("_")[0]) for n in migrations)
    os.makedirs(args.work, exist_ok=True)
    scenarios = [("fresh", scenario_fresh), ("upgrade", scenario_upgrade)]
    if args.other_release_deb:
        scenarios.append(("older", scenario_older))
    failed = []
    for name, function in scenarios:
        if args.only and name != args.only:
            continue
        started = time.time()
        print("--- %s: %s" % (args.release, name), flush=True)
        try:
            function(args, args.work)
            print("--- %s: %s passed (%.0f s)" % (args.release, name, time.time() - started), flush=True)
        except Exception as e:  # report every scenario
            failed.append(name)
            print("--- %s: %s FAILED (%.0f s): %s" % (args.release, name, time.time() - started, e), flush=True)
    if failed:
        sys.exit("%s: failed: %s" % (args.release, ", ".join(failed)))


if __name__ == "__main__":
    main()
