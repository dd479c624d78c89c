"""UDP socket buffer sizes (seed rows 11-12): asking for them, and saying
what the kernel gave.

Linux caps SO_RCVBUF / SO_SNDBUF at ``net.core.rmem_max`` /
``net.core.wmem_max``; SO_RCVBUFFORCE / SO_SNDBUFFORCE pass the cap for a
process with CAP_NET_ADMIN (root).  CPython names the FORCE options only
from 3.12 on, so their Linux numbers are given here for older ones.  The
FORCE option is simply tried: EPERM (no privilege, e.g. a backup binding
after twistd dropped root) falls back to the capped option, and the result
says whether the size the operator configured was cut, so that the log can
name the sysctl to raise instead of leaving a silent halving.

Everything here takes the socket (or a stub with ``setsockopt`` /
``getsockopt``) and returns a frozen :class:`BufferResult`; logging is the
caller's.
"""

import dataclasses
import socket
import sys

_LINUX = sys.platform.startswith("linux")

#: Linux reports twice the size it was asked for (the other half is its
#: bookkeeping, socket(7)); the comparison with the configured size allows
#: for it.
KERNEL_FACTOR = 2 if _LINUX else 1


@dataclasses.dataclass(frozen=True)
class BufferKind:
    """One of the two buffers: its options, the INI option that sizes it and
    the sysctl that caps it."""

    option_name: str
    option: int
    force_option: object  # int, or None where the platform has none
    sysctl: str

    @property
    def sysctl_path(self):
        return "/proc/sys/" + self.sysctl.replace(".", "/")


RECEIVE = BufferKind("udp-recvbuf", socket.SO_RCVBUF,
                     getattr(socket, "SO_RCVBUFFORCE", 33 if _LINUX else None),
                     "net.core.rmem_max")
SEND = BufferKind("udp-sendbuf", socket.SO_SNDBUF,
                  getattr(socket, "SO_SNDBUFFORCE", 32 if _LINUX else None),
                  "net.core.wmem_max")


@dataclasses.dataclass(frozen=True)
class BufferResult:
    """What one request gave: ``requested`` (0: the kernel default kept),
    ``applied`` as getsockopt reports it, ``forced`` when the FORCE option
    was accepted, ``force_error`` the errno that refused it (None when it
    was accepted or not tried)."""

    kind: BufferKind
    requested: int
    applied: int
    forced: bool = False
    force_error: object = None

    @property
    def capped(self):
        """The kernel applied less than the configured size."""
        return bool(self.requested) and self.applied < self.requested * KERNEL_FACTOR


def apply_buffer(sock, kind, size):
    """Ask for ``size`` bytes of ``kind`` on ``sock``: the FORCE option
    first, the plain one when that is refused; then read back what the
    kernel applied."""
    forced = False
    force_error = None
    if size:
        if kind.force_option is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, kind.force_option, size)
                forced = True
            except OSError as e:
                force_error = e.errno
        if not forced:
            try:
                sock.setsockopt(socket.SOL_SOCKET, kind.option, size)
            except OSError:
                pass  # the size stays the kernel's; capped says so
    applied = sock.getsockopt(socket.SOL_SOCKET, kind.option)
    return BufferResult(kind, size, applied, forced, force_error)


def read_limit(kind, open_file=open):
    """The current value of ``kind``'s sysctl, or None where it cannot be
    read (not Linux, no /proc)."""
    try:
        with open_file(kind.sysctl_path) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def cap_warning(result, limit):
    """The warning for a capped buffer (None when it was not capped):
    the figures, and the sysctl to raise."""
    if not result.capped:
        return None
    kind = result.kind
    why = (" (SO_%sFORCE refused: not root / no CAP_NET_ADMIN)"
           % ("RCVBUF" if kind is RECEIVE else "SNDBUF")
           if result.force_error is not None else "")
    return ("%s = %d was capped: the kernel applied %d bytes%s (%s = %s)%s; raise it "
            "(sysctl -w %s=%d) or start the server as root"
            % (kind.option_name, result.requested, result.applied,
               " (Linux reports twice the usable size)" if KERNEL_FACTOR == 2 else "",
               kind.sysctl, "unknown" if limit is None else limit, why,
               kind.sysctl, result.requested))
