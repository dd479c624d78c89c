"""Start the real server as a twistd process and drive it with SIPp.

Everything listens on 127.0.0.1 free ports; every process started is
stopped by PID when the test ends.
"""

import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from free_ports import address_family, free_port

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "bench" / "scenarios"


def terminate(process, timeout=10.0):
    """SIGTERM to the process group of ``process`` (started with
    start_new_session), SIGKILL if it is still there after ``timeout``."""
    if process is None or process.poll() is not None:
        return process.returncode if process else None
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
    return process.returncode


def wait_until_ready(process, ready, what, output, timeout):
    """Poll ``ready()`` until it is true.  A process that exits first, or
    is not ready within ``timeout`` seconds (then it is stopped), raises
    with ``output()``, what it had to say."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("%s exited with %s:\n%s" % (what, process.returncode, output()))
        if ready():
            return
        time.sleep(0.05)
    terminate(process)
    raise RuntimeError("%s was not ready within %ss:\n%s" % (what, timeout, output()))


def options_probe(port, host="127.0.0.1", timeout=0.5):
    """Send one OPTIONS over UDP; return the response bytes or None."""
    sock = socket.socket(address_family(host), socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    sock.bind((host, 0))
    local = sock.getsockname()[1]
    if ":" in host:
        host = "[%s]" % host
    message = ("OPTIONS sip:probe@%s:%d SIP/2.0\r\n"
               "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-probe-%d;rport\r\n"
               "From: <sip:probe@%s>;tag=p\r\nTo: <sip:probe@%s>\r\n"
               "Call-ID: probe-%d-%f\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
               "Content-Length: 0\r\n\r\n" % (host, port, host, local, local, host, host,
                                              local, time.time())).encode()
    try:
        sock.sendto(message, (host.strip("[]"), port))
        return sock.recv(65535)
    except OSError:
        return None
    finally:
        sock.close()


def move_endpoint(text, section, port):
    """Point ``endpoint = tcp:N`` of ``[section]`` at ``port`` (other
    sections' endpoints are left alone); add the section if it is missing."""
    parts = re.split(r"(?m)^(\[[^\]\n]+\])[ \t]*$", text)
    for index in range(1, len(parts), 2):
        if parts[index] == "[%s]" % section:
            parts[index + 1] = re.sub(r"(?m)^endpoint\s*=\s*tcp:\d+",
                                      "endpoint = tcp:%d" % port, parts[index + 1])
            return "".join(parts)
    return text + "\n[%s]\nendpoint = tcp:%d:interface=127.0.0.1\n" % (section, port)


def example_node(tmp_path, name, sip_port, listen, peer, secret_file):
    """etc/<name>.ini as shipped, on free ports, the pair sharing one
    secret-file (the shipped INIs share etc/ha-pair.secret)."""
    text = (REPO / "etc" / ("%s.ini" % name)).read_text()
    text = re.sub(r"(?m)^listen = tcp:\d+", "listen = tcp:%d" % listen, text)
    text = re.sub(r"(?m)^peer = tcp:127\.0\.0\.1:\d+", "peer = tcp:127.0.0.1:%d" % peer, text)
    text = text.replace("secret-file = ha-pair.secret", "secret-file = %s" % secret_file)
    workdir = tmp_path / name
    workdir.mkdir()
    return ServerProcess(workdir, config_text=text, port=sip_port)


class ServerProcess:
    """``twistd -n sipredirect --config <generated ini>`` in its own
    process group."""

    def __init__(self, workdir, settings="", routing_points="8001 =\n",
                 port=None, extra_sections="", config_text=None, host="127.0.0.1",
                 twistd=None):
        self.workdir = Path(workdir)
        # None: this interpreter runs the checkout (first on PYTHONPATH);
        # otherwise the twistd script of an installed copy, run as it is.
        self.twistd = twistd
        self.host = host
        self.port = port or free_port(host)
        self.config = self.workdir / "server.ini"
        self.logfile = self.workdir / "server.log"
        if config_text is not None:
            # An existing configuration, moved to a free port.
            text = re.sub(r"(?m)^sip-port\s*=.*$", "sip-port = %d" % self.port, config_text)
            self.router_port = free_port()
            if "[router]" in text:
                text = move_endpoint(text, "router", self.router_port)
        else:
            if "[router]" not in extra_sections:
                # No router link unless the test asks for one (the default
                # endpoint, port 3000, may be in use on a developer's machine).
                extra_sections += "\n[router]\nendpoint =\n"
            text = ("[sipredirect]\nsip-address = %s\nsip-port = %d\n%s\n"
                    "[routing-points]\n%s\n%s" % (host, self.port, settings,
                                                  routing_points, extra_sections))
        # Every server gets a management endpoint of its own (the default
        # port, 9060, would be shared by every server a test starts).
        self.management_port = free_port()
        if "[management]" in text and not re.search(
                r"(?ms)^\[management\][^\[]*^endpoint\s*=\s*tcp:", text):
            self.management_port = None  # turned off or not TCP: left as given
        else:
            added = "[management]" not in text
            text = move_endpoint(text, "management", self.management_port)
            if added:
                # sipredirect-ctl and /status need the API token; the
                # server creates the file in workdir at start.
                text += "token-file = management.token\n"
        self.config.write_text(text)
        self.process = None

    def start(self, timeout=20.0):
        env = dict(os.environ)
        if self.twistd is None:
            env["PYTHONPATH"] = os.pathsep.join(
                [str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
            twistd = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]
        else:
            env.pop("PYTHONPATH", None)
            twistd = [str(self.twistd)]
        self.process = subprocess.Popen(
            twistd + ["-n", "--pidfile=", "--logfile=%s" % self.logfile,
                      "sipredirect", "--config", str(self.config)],
            cwd=str(self.workdir), env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        def output():
            # twistd's own complaints (a config error) go to its stdout.
            exited = self.process.poll() is not None
            return (self.process.stdout.read().decode() if exited else "") + self.log()

        wait_until_ready(self.process, lambda: options_probe(self.port, self.host),
                         "server (answering OPTIONS)", output, timeout)
        return self

    @property
    def management_url(self):
        return "http://127.0.0.1:%d" % self.management_port

    @property
    def token_file(self):
        """The API token file the harness names (``token-file =
        management.token``, next to the INI); exists once started."""
        return self.workdir / "management.token"

    def metrics(self):
        """{(sample name, sorted labels): value} of the server's /metrics."""
        import urllib.request
        from prometheus_client.parser import text_string_to_metric_families
        with urllib.request.urlopen(self.management_url + "/metrics", timeout=5) as r:
            text = r.read().decode()
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    def log(self):
        """The whole log, rotated parts included (twistd rotates at 1 MB)."""
        parts = sorted(self.workdir.glob(self.logfile.name + ".*"),
                       key=lambda p: -int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0)
        text = []
        for path in parts + [self.logfile]:
            try:
                text.append(path.read_text(errors="replace"))
            except OSError:
                pass
        return "".join(text)

    def stop(self, timeout=15.0):
        return terminate(self.process, timeout)

    def wait_for_log(self, text, timeout=5.0):
        """True once ``text`` is in the log (within ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return True
            time.sleep(0.05)
        return text in self.log()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def sipp_binary():
    path = shutil.which("sipp")
    if path is None:
        raise RuntimeError("sipp is not installed: the test command installs the "
                           "Debian package sip-tester (see README.rst)")
    return path


class SippResult:
    def __init__(self, returncode, stats, workdir, output):
        self.returncode = returncode
        self.stats = stats
        self.workdir = workdir
        self.output = output

    def count(self, name):
        return int(self.stats.get(name + "(C)", "0") or 0)

    @property
    def successful(self):
        return self.count("SuccessfulCall")

    @property
    def failed(self):
        return self.count("FailedCall")

    @property
    def retransmissions(self):
        return self.count("Retransmissions")

    @property
    def unexpected(self):
        return self.count("FailedUnexpectedMessage")

    def messages(self):
        path = self.workdir / "messages.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def errors(self):
        path = self.workdir / "errors.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def summary(self):
        return ("sipp rc=%s successful=%s failed=%s retrans=%s unexpected=%s\n%s\n%s"
                % (self.returncode, self.successful, self.failed, self.retransmissions,
                   self.unexpected, self.output[-2000:], self.errors()[-3000:]))


def run_sipp(workdir, scenario, port, calls, rate, transport="u1", service="8001",
             trace_messages=False, extra=(), timeout=None, host="127.0.0.1"):
    """Run a bounded SIPp client; returns a :class:`SippResult`."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    stat = workdir / "stats.csv"
    for stale in (stat, workdir / "messages.log", workdir / "errors.log"):
        if stale.exists():
            stale.unlink()
    duration = calls / float(rate)
    limit = timeout or duration + 40
    args = [sipp_binary(), "-sf", str(SCENARIOS / scenario), "%s:%d" % (host, port),
            "-i", "127.0.0.1", "-p", str(free_port()), "-t", transport,
            "-s", service, "-m", str(calls), "-r", str(rate), "-rp", "1000",
            "-l", str(max(10, int(rate * 10))), "-nostdin",
            "-timeout", "%ds" % int(limit), "-timeout_error",
            "-trace_stat", "-stf", str(stat), "-fd", "1",
            "-trace_err", "-error_file", str(workdir / "errors.log")]
    if trace_messages:
        args += ["-trace_msg", "-message_file", str(workdir / "messages.log")]
    args += list(extra)
    proc = subprocess.Popen(args, cwd=str(workdir), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=limit + 20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
    stats = {}
    if stat.exists():
        rows = list(csv.reader(stat.open(), delimiter=";"))
        if len(rows) >= 2:
            stats = dict(zip(rows[0], rows[-1]))
    return SippResult(proc.returncode, stats, workdir,
                      output.decode(errors="replace") if output else "")


def split_trace(text):
    """SIPp's -trace_msg log as a list of (time, direction, message); time
    in seconds since the epoch, direction "sent" or "received"."""
    entries = []
    for block in re.split(r"^-{10,} ", text, flags=re.M)[1:]:
        header, _, rest = block.partition("\n")
        stamp = header.strip()
        when = time.mktime(time.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S")) + float(
            "0" + stamp[19:26])
        kind, _, body = rest.partition("\n")
        direction = "sent" if " sent" in kind else "received"
        entries.append((when, direction, body.lstrip("\r\n")))
    return entries


def received_redirects(result):
    """(time, message) of every 302 SIPp received."""
    return [(when, body) for when, direction, body in split_trace(result.messages())
            if direction == "received" and body.startswith("SIP/2.0 302")]


def redirect_contacts(result):
    """The Contact URI of every 302 SIPp received."""
    return [re.search(r"^Contact: <([^>]+)>", body, re.M).group(1)
            for _, body in received_redirects(result)]


class RouterProcess:
    """The reference router (``python -m sipredirect.urs``) as a real
    peer, with its counters in a JSON stats file."""

    def __init__(self, workdir, servers, rules, name="urs-test", dns=("*",), password=None,
                 password_file=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.rules = self.workdir / "rules.ini"
        self.rules.write_text(rules)
        self.stats_file = self.workdir / "router-stats.json"
        self.logfile = self.workdir / "router.log"
        self.servers = list(servers)
        self.name = name
        self.dns = list(dns)
        self.password = password
        self.password_file = password_file
        self.process = None

    def start(self, timeout=20.0):
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO)
        args = [sys.executable, "-m", "sipredirect.urs", "--rules", str(self.rules),
                "--name", self.name, "--stats-file", str(self.stats_file),
                "--log-file", str(self.logfile), "--keepalive", "2"]
        for server in self.servers:
            args += ["--server", server]
        for dn in self.dns:
            args += ["--dn", dn]
        if self.password is not None:
            args += ["--password", self.password]
        if self.password_file is not None:
            args += ["--password-file", str(self.password_file)]
        self.process = subprocess.Popen(args, cwd=str(self.workdir), env=env,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        def registered():
            stats = self.stats()
            return stats and stats["total"].get("dn_registered", 0) >= len(self.dns)

        wait_until_ready(self.process, registered, "router (registering its DNs)",
                         self.log, timeout)
        return self

    def stats(self):
        try:
            import json
            return json.loads(self.stats_file.read_text())
        except (OSError, ValueError):
            return None

    def log(self):
        try:
            return self.logfile.read_text()
        except OSError:
            return ""

    def kill(self):
        """SIGKILL: the router dies without a word to the server."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout=10.0):
        """SIGTERM; the router writes its final counters before exiting."""
        terminate(self.process, timeout)


class StunnelClient:
    """stunnel (Debian ``stunnel4``) in client mode: plain TCP in on
    ``accept_port``, TLS out to the server's TLS port, with the server's
    certificate checked against ``ca`` and ``check_host``; SIPp (built
    without TLS) talks TCP to it."""

    def __init__(self, workdir, tls_port, ca, check_host="localhost", cert=None, key=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.accept_port = free_port()
        self.logfile = self.workdir / "stunnel.log"
        lines = ["foreground = yes", "pid =", "output = %s" % self.logfile,
                 "debug = notice", "[sip-tls]", "client = yes",
                 "accept = 127.0.0.1:%d" % self.accept_port,
                 "connect = 127.0.0.1:%d" % tls_port, "CAfile = %s" % ca,
                 "verifyChain = yes", "checkHost = %s" % check_host, "sslVersionMin = TLSv1.2"]
        if cert:
            lines += ["cert = %s" % cert, "key = %s" % key]
        self.config = self.workdir / "stunnel.conf"
        self.config.write_text("\n".join(lines) + "\n")
        self.process = None

    def start(self, timeout=10.0):
        binary = shutil.which("stunnel4") or shutil.which("stunnel")
        if binary is None:
            raise RuntimeError("stunnel is not installed (Debian package stunnel4)")
        self.process = subprocess.Popen([binary, str(self.config)], cwd=str(self.workdir),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.accept_port), timeout=1).close()
                return True
            except OSError:
                return False

        wait_until_ready(self.process, listening, "stunnel (listening)", self.log, timeout)
        return self

    def log(self):
        try:
            return self.logfile.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout=10.0):
        terminate(self.process, timeout)
