"""A real ``redis-server`` for the tests: a free loopback port, no
persistence, in a temporary directory, stopped by PID.

A missing ``redis-server`` fails the test (the README's test command
installs it); nothing is skipped silently.
"""

import os
import shutil
import signal
import socket
import subprocess
import time

from free_ports import free_port


class RedisServer:
    """``redis-server`` in its own process group; start(), stop(), and
    pause()/resume() (SIGSTOP/SIGCONT) for a Redis that hangs."""

    def __init__(self, workdir, port=None, host="127.0.0.1", sentinel_of=None,
                 master_name="calls"):
        self.sentinel_of = sentinel_of
        self.master_name = master_name
        self.workdir = str(workdir)
        self.host = host
        self.port = port or free_port(host)
        self.process = None
        self.logfile = os.path.join(self.workdir, "redis-%d.log" % self.port)

    @property
    def url(self):
        return "redis://%s:%d/0" % (self.host, self.port)

    def start(self, timeout=10.0):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server); "
                               "the README's test command installs it")
        os.makedirs(self.workdir, exist_ok=True)
        args = [binary]
        if self.sentinel_of is not None:
            # Sentinel rewrites its configuration file: it must be writable.
            conf = os.path.join(self.workdir, "sentinel-%d.conf" % self.port)
            with open(conf, "w") as f:
                f.write("sentinel monitor %s %s %d 1\n" % (
                    self.master_name, self.sentinel_of.host, self.sentinel_of.port))
            args += [conf, "--sentinel"]
        else:
            args += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            args + ["--port", str(self.port), "--bind", self.host, "--dir", self.workdir,
                    "--logfile", self.logfile, "--daemonize", "no",
                    "--protected-mode", "yes"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("redis-server exited with %s" % self.process.returncode)
            if self.ping():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer PING within %ss" % timeout)

    def command(self, *args, timeout=2.0):
        """One command over a plain socket (test set-up and checks only);
        returns the raw reply bytes."""
        from sipredirect.redislink.resp import RespParser, encode_command
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        try:
            sock.sendall(encode_command(*args))
            parser = RespParser()
            while True:
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("redis closed the connection")
                replies = parser.feed(data)
                if replies:
                    return replies[0]
        finally:
            sock.close()

    def ping(self):
        try:
            return self.command("PING", timeout=0.5) == "PONG"
        except OSError:
            return False

    def pause(self):
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self, timeout=10.0):
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.kill(self.process.pid, signal.SIGCONT)
            os.kill(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
