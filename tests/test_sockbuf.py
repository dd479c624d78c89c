"""UDP socket buffers (seed rows 11-12): the FORCE options pass
net.core.rmem_max / wmem_max when the process may use them, and a size the
kernel capped is said, with the sysctl to raise."""

import errno
import io
import os
import socket

import pytest

from sipredirect.sockbuf import (KERNEL_FACTOR, RECEIVE, SEND, BufferResult, apply_buffer,
                                 cap_warning, read_limit)

SIXTEEN_MIB = 16 << 20


class RecordingSocket:
    """setsockopt / getsockopt of a socket whose FORCE options are refused
    (a process without CAP_NET_ADMIN) and whose plain options are capped
    at ``limit`` the way Linux caps and doubles them."""

    def __init__(self, limit, force_errno=errno.EPERM):
        self.limit = limit
        self.force_errno = force_errno
        self.calls = []
        self.sizes = {}

    def setsockopt(self, level, option, value):
        self.calls.append((level, option, value))
        if option in (RECEIVE.force_option, SEND.force_option):
            raise OSError(self.force_errno, os.strerror(self.force_errno))
        self.sizes[option] = min(value, self.limit) * KERNEL_FACTOR

    def getsockopt(self, level, option):
        return self.sizes.get(option, 212992)


def test_a_refused_force_option_falls_back_to_the_plain_one_and_says_it_was_capped():
    sock = RecordingSocket(limit=4 << 20)
    result = apply_buffer(sock, RECEIVE, SIXTEEN_MIB)
    assert sock.calls == [(socket.SOL_SOCKET, RECEIVE.force_option, SIXTEEN_MIB),
                          (socket.SOL_SOCKET, socket.SO_RCVBUF, SIXTEEN_MIB)]
    assert result == BufferResult(RECEIVE, SIXTEEN_MIB, (4 << 20) * KERNEL_FACTOR,
                                  forced=False, force_error=errno.EPERM)
    assert result.capped
    warning = cap_warning(result, 4 << 20)
    assert warning.startswith("udp-recvbuf = 16777216 was capped: the kernel applied %d "
                              "bytes" % ((4 << 20) * KERNEL_FACTOR))
    assert "net.core.rmem_max = 4194304" in warning
    assert "sysctl -w net.core.rmem_max=16777216" in warning
    assert "SO_RCVBUFFORCE refused" in warning


def test_the_send_buffer_warning_names_wmem_max():
    result = apply_buffer(RecordingSocket(limit=1 << 20), SEND, 8 << 20)
    warning = cap_warning(result, None)
    assert "udp-sendbuf = 8388608 was capped" in warning
    assert "net.core.wmem_max = unknown" in warning
    assert "SO_SNDBUFFORCE refused" in warning


def test_a_size_within_the_cap_gives_no_warning_and_zero_keeps_the_kernel_default():
    sock = RecordingSocket(limit=4 << 20)
    result = apply_buffer(sock, RECEIVE, 1 << 20)
    assert not result.capped and cap_warning(result, 4 << 20) is None
    sock = RecordingSocket(limit=4 << 20)
    result = apply_buffer(sock, RECEIVE, 0)
    assert sock.calls == [] and result.applied == 212992
    assert cap_warning(result, 4 << 20) is None


def test_read_limit_reads_the_sysctl_file_and_tolerates_its_absence():
    opened = []

    def fake_open(path):
        opened.append(path)
        return io.StringIO("4194304\n")

    assert read_limit(RECEIVE, fake_open) == 4194304
    assert opened == ["/proc/sys/net/core/rmem_max"]

    def missing(path):
        raise FileNotFoundError(path)

    assert read_limit(SEND, missing) is None


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0
                    or RECEIVE.force_option is None, reason="needs root on Linux")
@pytest.mark.parametrize("kind", [RECEIVE, SEND])
def test_as_root_sixteen_mib_are_applied_past_the_sysctl_cap(kind):
    """Tests run as root here: the FORCE option gives the full size even
    where the sysctl (read, never changed) is smaller."""
    limit = read_limit(kind)
    assert limit is not None
    size = max(SIXTEEN_MIB, 4 * limit)  # past the cap whatever this machine's is
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        result = apply_buffer(sock, kind, size)
    finally:
        sock.close()
    assert result.forced and result.applied >= size
    assert not result.capped and cap_warning(result, limit) is None
