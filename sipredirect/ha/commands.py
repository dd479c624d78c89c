"""``on-primary`` / ``on-backup``: shell commands run on a role change
(e.g. to move a virtual IP), bounded by a timeout, exit status logged."""

import os
import shutil
import signal

from twisted.internet import protocol

from ..safelog import Logger


class CommandProtocol(protocol.ProcessProtocol):
    log = Logger()

    def __init__(self, command, timeout, clock):
        self.command = command
        self.timeout_call = None
        self.timeout = timeout
        self.clock = clock
        self.output = b""

    def connectionMade(self):
        self.transport.closeStdin()
        self.timeout_call = self.clock.callLater(self.timeout, self._too_slow)

    def outReceived(self, data):
        self.output = (self.output + data)[-4096:]

    errReceived = outReceived

    def _too_slow(self):
        self.timeout_call = None
        self.log.warn("command {command!r} still running after {timeout}s: killing it",
                      command=self.command, timeout=self.timeout)
        try:
            # The command runs in a session of its own: kill what it started too.
            os.killpg(self.transport.pid, signal.SIGKILL)
        except (OSError, TypeError):
            try:
                self.transport.signalProcess("KILL")
            except Exception:
                pass

    def processEnded(self, reason):
        if self.timeout_call is not None and self.timeout_call.active():
            self.timeout_call.cancel()
        code = getattr(reason.value, "exitCode", None)
        signal = getattr(reason.value, "signal", None)
        self.log.info("command {command!r} ended: exit status {code}{signal}{output}",
                      command=self.command, code=code,
                      signal=" (signal %s)" % signal if signal else "",
                      output=("; output: " + self.output.decode("utf-8", "replace").strip())
                      if self.output.strip() else "")


def run_command(reactor, command, timeout):
    if not command:
        return None
    proto = CommandProtocol(command, timeout, reactor)
    setsid = shutil.which("setsid")
    if setsid:
        argv = [setsid, "/bin/sh", "-c", command]
    else:
        argv = ["/bin/sh", "-c", command]
    reactor.spawnProcess(proto, argv[0], argv, env=dict(os.environ))
    return proto
