"""Debian's nginx in front of an OrthancSite, for the reverse-proxy tests.

The configuration is the one shipped in OrthancConfiguration/nginx/ (the site
file and its two snippets), changed only where a test must differ from a
hospital's server, each change checked to apply exactly where expected:

  - it listens on free loopback ports instead of 443/80, IPv4 only;
  - the upstream is the test's Orthanc port instead of 8042;
  - the certificates are made at test time by the shipped
    make-demo-certificate.sh, in the test's own folder;
  - nginx connects to Orthanc from 127.0.0.2 (proxy_bind), so that Orthanc
    can tell the proxy (trusted) from a client that connects to it directly
    from 127.0.0.1 (not trusted);
  - the access log names each request's upstream (or "-": nginx answered by
    itself) and the X-Test-Id header a test may send.

nginx runs in the foreground (daemon off) with its own pid file, logs and
temporary folders; the harness kills it when the test process ends.

Clients (HostClient) connect to 127.0.0.1:<port> from a chosen loopback source
address (127.0.0.3, 127.0.0.4, ... play distinct people), send the host name
as TLS SNI and Host header, and check the certificate against the one made
for that name.
"""

import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import orthanc_harness as h

requests = h.requests

NGINX_BIN = os.environ.get("HB_NGINX", "/usr/sbin/nginx")
CONF_DIR = os.path.join(h.SOURCE_DIR, "OrthancConfiguration", "nginx")
STAFF_HOST = "pacs.hospital.example"
PATIENT_HOST = "images.hospital.example"
# The address nginx connects to Orthanc from (Security.TrustedProxies).
PROXY_ADDRESS = "127.0.0.2"


def missing_tools():
    """What this machine lacks to run nginx tests ("" when nothing)."""
    lacking = [p for p in (NGINX_BIN, shutil.which("openssl") or "openssl") if not os.access(p, os.X_OK)]
    return ", ".join(lacking)


class NginxError(RuntimeError):
    pass


def replace_exactly(text, old, new, count, what):
    """text with `old` replaced by `new`; `old` must occur `count` times
    (the shipped file changed shape otherwise: the test must be updated)."""
    found = text.count(old)
    if found != count:
        raise NginxError("%s: expected %d x %r, found %d (the shipped configuration changed?)"
                         % (what, count, old, found))
    return text.replace(old, new)


def _free_loopback_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _SourceAdapter(requests.adapters.HTTPAdapter):
    """Connects from `source` and sends `sni` as TLS server name (checked
    against the certificate instead of the URL's 127.0.0.1)."""

    def __init__(self, sni=None, source=None):
        self._sni = sni
        self._source = source
        super().__init__()

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        if self._sni:
            pool_kwargs["server_hostname"] = self._sni
        if self._source:
            pool_kwargs["source_address"] = (self._source, 0)
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)


class HostClient(requests.Session):
    """A cookie-keeping client of one host name. Paths starting with "/" are
    relative to the host; every request has a 30 s timeout unless given."""

    def __init__(self, base, host_header, sni, source, verify):
        super().__init__()
        self.trust_env = False
        self.base = base
        self.source = source
        self.mount("https://", _SourceAdapter(sni, source))
        self.mount("http://", _SourceAdapter(None, source))
        self.headers["Host"] = host_header
        self.verify = verify

    def request(self, method, url, *args, **kwargs):
        if url.startswith("/"):
            url = self.base + url
        kwargs.setdefault("timeout", 30)
        return super().request(method, url, *args, **kwargs)


class NginxProxy(object):
    """nginx with OrthancConfiguration/nginx/ in front of Orthanc's port."""

    def __init__(self, orthanc_port, name="nginx"):
        self.orthanc_port = orthanc_port
        self.name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        self.root = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-%s-" % self.name))
        # The workers (user nobody when started as root) write request bodies
        # under tmp/: they must be able to walk into this folder. The keys
        # stay readable by root only (make-demo-certificate.sh).
        os.chmod(self.root, 0o755)
        self.cert_dir = os.path.join(self.root, "certs")
        self.conf_path = os.path.join(self.root, "nginx.conf")
        self.error_log = os.path.join(self.root, "error.log")
        self.access_log = os.path.join(self.root, "access.log")
        self.https_port = None
        self.http_port = None
        self.process = None
        self._stderr = None
        self._clients = []

    # --- configuration ----------------------------------------------------------

    def certificate(self, host):
        return os.path.join(self.cert_dir, host, "fullchain.pem")

    def make_certificates(self):
        script = os.path.join(CONF_DIR, "make-demo-certificate.sh")
        r = subprocess.run(["bash", script, "-d", self.cert_dir, "-days", "2", STAFF_HOST, PATIENT_HOST],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                           universal_newlines=True)
        if r.returncode != 0:
            raise NginxError("make-demo-certificate.sh failed (%d): %s" % (r.returncode, r.stdout))
        for host in (STAFF_HOST, PATIENT_HOST):
            if not os.path.exists(self.certificate(host)):
                raise NginxError("make-demo-certificate.sh made no %s: %s" % (self.certificate(host), r.stdout))

    def site_config(self):
        """The shipped site file with the test's ports, paths and addresses."""
        with open(os.path.join(CONF_DIR, "hospitalbridge.conf")) as f:
            text = f.read()
        what = "hospitalbridge.conf"
        text = replace_exactly(text, "server 127.0.0.1:8042;", "server 127.0.0.1:%d;" % self.orthanc_port,
                               1, what)
        text = replace_exactly(text, "listen 443 ssl http2 default_server;",
                               "listen 127.0.0.1:%d ssl http2 default_server;" % self.https_port, 1, what)
        text = replace_exactly(text, "listen 443 ssl http2;",
                               "listen 127.0.0.1:%d ssl http2;" % self.https_port, 2, what)
        text = replace_exactly(text, "listen 80;", "listen 127.0.0.1:%d;" % self.http_port, 1, what)
        text, n = re.subn(r"(?m)^[ \t]*listen \[::\]:[^\n]*\n", "", text)
        if n != 4:
            raise NginxError("%s: expected 4 IPv6 listen lines, found %d" % (what, n))
        text = replace_exactly(text, "/etc/ssl/hospitalbridge/", self.cert_dir + "/", 4, what)
        text = replace_exactly(text, "/var/www/letsencrypt", os.path.join(self.root, "acme"), 1, what)
        return text

    def proxy_snippet(self):
        with open(os.path.join(CONF_DIR, "hospitalbridge-proxy.conf")) as f:
            text = f.read()
        return text + ("\n# test only: connect to Orthanc from the trusted proxy address\n"
                       "proxy_bind %s;\n" % PROXY_ADDRESS)

    def main_config(self):
        r = self.root
        temp = os.path.join(r, "tmp")
        return """# generated by nginx_harness.py for one test run
daemon off;
master_process on;
worker_processes 1;
pid %(r)s/nginx.pid;
error_log %(r)s/error.log notice;
events { worker_connections 256; }
http {
    default_type application/octet-stream;
    log_format hbtest '$remote_addr "$request" $status upstream=$upstream_addr test=$http_x_test_id '
                      'host=$host sni=$ssl_server_name';
    access_log %(r)s/access.log hbtest;
    client_body_temp_path %(t)s/body;
    proxy_temp_path %(t)s/proxy;
    fastcgi_temp_path %(t)s/fastcgi;
    uwsgi_temp_path %(t)s/uwsgi;
    scgi_temp_path %(t)s/scgi;
    include sites-enabled/hospitalbridge.conf;
}
""" % {"r": r, "t": temp}

    def write_config(self):
        os.makedirs(os.path.join(self.root, "snippets"), exist_ok=True)
        os.makedirs(os.path.join(self.root, "sites-enabled"), exist_ok=True)
        os.makedirs(os.path.join(self.root, "tmp"), exist_ok=True)
        os.makedirs(os.path.join(self.root, "acme"), exist_ok=True)
        with open(os.path.join(self.root, "sites-enabled", "hospitalbridge.conf"), "w") as f:
            f.write(self.site_config())
        with open(os.path.join(self.root, "snippets", "hospitalbridge-proxy.conf"), "w") as f:
            f.write(self.proxy_snippet())
        shutil.copyfile(os.path.join(CONF_DIR, "hospitalbridge-https.conf"),
                        os.path.join(self.root, "snippets", "hospitalbridge-https.conf"))
        with open(self.conf_path, "w") as f:
            f.write(self.main_config())

    def _nginx(self, *args):
        return [NGINX_BIN, "-p", self.root + "/", "-c", self.conf_path, "-e", self.error_log] + list(args)

    # --- lifecycle --------------------------------------------------------------

    def start(self, timeout=20.0):
        self.make_certificates()
        for attempt in range(4):
            self.https_port = _free_loopback_port()
            self.http_port = _free_loopback_port()
            while self.http_port == self.https_port:
                self.http_port = _free_loopback_port()
            self.write_config()
            check = subprocess.run(self._nginx("-t"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   timeout=60, universal_newlines=True)
            if check.returncode != 0:
                raise NginxError("nginx -t refuses the configuration:\n%s" % check.stdout)
            self._stderr = open(os.path.join(self.root, "nginx.stderr"), "ab")
            self.process = subprocess.Popen(self._nginx(), stdout=self._stderr, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, preexec_fn=h._pdeathsig,
                                            start_new_session=True)
            # the workers are in nginx's process group: killed with it
            h.register_process(self.process, group=True)
            try:
                self._wait_ready(timeout)
                return self
            except NginxError:
                in_use = "Address already in use" in self.error_text()
                self.stop()
                if not in_use or attempt == 3:
                    raise

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NginxError("nginx exited with %s:\n%s" % (self.process.returncode, self.error_text()[-3000:]))
            try:
                ctx = ssl.create_default_context(cafile=self.certificate(STAFF_HOST))
                with socket.create_connection(("127.0.0.1", self.https_port), timeout=5) as sock:
                    with ctx.wrap_socket(sock, server_hostname=STAFF_HOST):
                        return
            except (OSError, ssl.SSLError) as e:
                last = e
            time.sleep(0.1)
        raise NginxError("nginx not ready after %.0f s (%r):\n%s" % (timeout, last, self.error_text()[-3000:]))

    def stop(self):
        for c in self._clients:
            c.close()
        self._clients = []
        p = self.process
        if p is not None:
            if p.poll() is None:
                p.terminate()  # fast shutdown
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
            h.kill_process_group(p)
            h.unregister_process(p)
            self.process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def close(self):
        """Stop nginx, keep its logs in HB_ARTIFACTS, remove its folder."""
        try:
            self.stop()
        finally:
            stamp = "%d-%d" % (os.getpid(), int(time.time() * 1000) % 100000000)
            for name in ("error.log", "access.log"):
                src = os.path.join(self.root, name)
                if os.path.exists(src):
                    try:
                        shutil.copyfile(src, os.path.join(h.artifacts_dir(),
                                                          "nginx-%s-%s-%s" % (self.name, stamp, name)))
                    except OSError:
                        pass
            if not os.environ.get("HB_KEEP_TEMP"):
                shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()
        return False

    # --- logs -------------------------------------------------------------------

    def error_text(self):
        out = []
        for name in ("nginx.stderr", "error.log"):
            try:
                with open(os.path.join(self.root, name), "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "\n".join(out)

    def access_lines(self, test_id):
        """The access log's lines of the requests that sent X-Test-Id."""
        try:
            with open(self.access_log, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if (" test=%s " % test_id) in line]

    def upstream_of(self, test_id, timeout=5.0):
        """Where nginx sent the request marked `test_id`: "127.0.0.1:<port>",
        or "-" when nginx answered by itself (never reached Orthanc)."""
        def find():
            lines = self.access_lines(test_id)
            return lines[-1] if lines else None
        line = h.wait_until(find, timeout, interval=0.05, message="no access log line for %s" % test_id)
        return re.search(r" upstream=(\S+) ", line).group(1)

    # --- clients ----------------------------------------------------------------

    def url(self, https=True):
        return ("https://127.0.0.1:%d" % self.https_port) if https else ("http://127.0.0.1:%d" % self.http_port)

    def client(self, host, source="127.0.0.1", https=True):
        """A HostClient of `host` (STAFF_HOST or PATIENT_HOST) connecting
        from the loopback address `source`."""
        port = self.https_port if https else self.http_port
        c = HostClient(self.url(https), "%s:%d" % (host, port), host if https else None, source,
                       self.certificate(host))
        self._clients.append(c)
        return c

    def raw(self, host, method, path, headers=None, body=None, source="127.0.0.1"):
        """One request with the path sent exactly as given (requests would
        resolve "/s/../x" itself). Returns (status, {header: value}, body)."""
        ctx = ssl.create_default_context(cafile=self.certificate(host))
        sock = socket.create_connection(("127.0.0.1", self.https_port), timeout=30, source_address=(source, 0))
        try:
            tls = ctx.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        conn = http.client.HTTPConnection("127.0.0.1", self.https_port, timeout=30)
        conn.sock = tls
        try:
            all_headers = {"Host": "%s:%d" % (host, self.https_port)}
            all_headers.update(headers or {})
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in all_headers.items():
                conn.putheader(k, v)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def tls_handshake(self, server_name):
        """A TLS handshake with this server name (None: no SNI sent), the
        certificate not checked. Returns the TLS version; raises
        ssl.SSLError (or OSError) when nginx refuses the handshake."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", self.https_port), timeout=10) as sock:
            with ctx.wrap_socket(sock, server_hostname=server_name) as tls:
                return tls.version()
