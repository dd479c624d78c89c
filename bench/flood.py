"""A flood of INVITEs that are never ACKed, against a real server: RSS
before, at its peak and after, and how the INVITEs were answered.

Issue 18 point 11: 50 sources at 5,000 INVITEs/s in all for 20 s, no
ACKs, default settings (the default ``max-transactions`` included).  At
b9baa1e the server reached 514 MB RSS; the cap keeps it bounded.

Everything runs on 127.0.0.1 (the sources on 127.0.0.10 onwards, the
Linux loopback answers the whole 127/8); the server is started with
``twistd`` from a checkout (``--checkout``, this one by default) and
stopped by PID.  A plain script, never collected by pytest::

    python3 bench/flood.py                          # the issue's flood
    python3 bench/flood.py --seconds 5 --rate 1000  # a quick look
    python3 bench/flood.py --setting "max-transactions = 200"
"""

import argparse
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def vm_kib(pid, field):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def invite(port, source, source_port, n):
    return ("INVITE sip:8001@127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-flood-%d\r\n"
            "From: <sip:29111@%s>;tag=f%d\r\nTo: <sip:8001@127.0.0.1>\r\n"
            "Call-ID: flood-%d@%s\r\nCSeq: 1 INVITE\r\n"
            "Contact: <sip:29111@%s:%d>\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n" % (port, source, source_port, n, source, n, n,
                                           source, source, source_port)).encode()


def start_server(checkout, workdir, settings):
    port, management = free_port(socket.SOCK_DGRAM), free_port()
    config = workdir / "flood.ini"
    config.write_text(
        "[sipredirect]\nsip-address = 127.0.0.1\nsip-port = %d\ntransports = udp\n"
        "default-routing-destinations = sip:agent@127.0.0.1:5070\n%s\n"
        "[routing-points]\n8001 =\n[router]\nendpoint =\n"
        "[management]\nendpoint = tcp:%d:interface=127.0.0.1\n"
        % (port, "\n".join(settings), management))
    env = dict(os.environ, PYTHONPATH=str(checkout))
    process = subprocess.Popen(
        [sys.executable, "-c", "from twisted.scripts.twistd import run; run()", "-n",
         "--pidfile=", "--logfile=%s" % (workdir / "server.log"), "sipredirect",
         "--config", str(config)], cwd=str(workdir), env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/health" % management, timeout=1)
            return process, port, management
        except OSError:
            time.sleep(0.1)
    stop(process)
    raise SystemExit("the server did not start; see %s" % (workdir / "server.log"))


def stop(process):
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def count_answers(sockets, until, out):
    """In a child process: count responses by status until ``until``
    (monotonic) and write ``status count`` lines to ``out``."""
    counts = {}
    while time.monotonic() < until:
        readable, _, _ = select.select(sockets, [], [], 0.2)
        for sock in readable:
            for _ in range(64):
                try:
                    data = sock.recv(65535)
                except BlockingIOError:
                    break
                key = data[8:11].decode("ascii", "replace")
                counts[key] = counts.get(key, 0) + 1
    os.write(out, "".join("%s %d\n" % item for item in sorted(counts.items())).encode())
    os._exit(0)


def legit_call(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.bind(("127.0.0.1", 0))
        sock.sendto(invite(port, "127.0.0.1", sock.getsockname()[1], 10 ** 9),
                    ("127.0.0.1", port))
        try:
            return sock.recv(65535)[8:11].decode()
        except OSError:
            return "none"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--rate", type=int, default=5000, help="INVITEs/s in all")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--checkout", type=Path, default=REPO)
    parser.add_argument("--setting", action="append", default=[],
                        help='an extra [sipredirect] line, e.g. "max-transactions = 200"')
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sipredirect-flood-"))
    process, port, management = start_server(args.checkout, workdir, args.setting)
    try:
        sockets = []
        for n in range(args.sources):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
            sock.bind(("127.0.0.%d" % (10 + n), 0))
            sock.setblocking(False)
            sockets.append(sock)
        rss_start = vm_kib(process.pid, "VmRSS")
        until = time.monotonic() + args.seconds + 3
        read_end, write_end = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(read_end)
            count_answers(sockets, until, write_end)
        os.close(write_end)
        start, sent = time.monotonic(), 0
        total = int(args.rate * args.seconds)
        while sent < total:
            due = min(total, int((time.monotonic() - start) * args.rate))
            while sent < due:
                sock = sockets[sent % len(sockets)]
                try:
                    sock.sendto(invite(port, sock.getsockname()[0],
                                       sock.getsockname()[1], sent), ("127.0.0.1", port))
                except BlockingIOError:
                    pass
                sent += 1
            time.sleep(0.002)
        took = time.monotonic() - start
        rss_end = vm_kib(process.pid, "VmRSS")
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % management) as r:
            metrics = r.read().decode()
        os.waitpid(child, 0)
        counts = os.read(read_end, 4096).decode().split()
        time.sleep(2)
        answer = legit_call(port)
        peak = vm_kib(process.pid, "VmHWM")
        live = [line for line in metrics.splitlines()
                if line.startswith("sipredirect_sip_transactions ")]
        print("flood: %d INVITEs from %d sources in %.1f s (%.0f/s), no ACKs"
              % (sent, args.sources, took, sent / took))
        print("responses received (retransmissions included): %s"
              % ", ".join("%s x %s" % (counts[i + 1], counts[i])
                          for i in range(0, len(counts), 2)))
        print("server RSS: %.1f MiB at start, %.1f MiB at the flood's end, "
              "peak %.1f MiB" % (rss_start / 1024, rss_end / 1024, peak / 1024))
        print("live transactions at the end: %s" % (live[0].split()[1] if live
                                                    else "(no such metric)"))
        print("a new INVITE 2 s after the flood: %s" % answer)
    finally:
        stop(process)


if __name__ == "__main__":
    main()
