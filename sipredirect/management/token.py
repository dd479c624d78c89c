"""The management API token: a random secret in a file the INI names.

The token is what separates "can reach the port" from "may drain the
server": a DNS-rebinding web page, or any local process, can reach a
loopback port, but cannot read a mode-0600 file it does not own.  When the
file does not exist yet the server creates it (``O_CREAT | O_EXCL``, mode
0600) with a fresh random token, so that a fresh clone's first command
works and ``sipredirect-ctl --config`` finds the same token; the two nodes
of a pair on one machine may share the file, and whichever starts first
creates it.
"""

import os
import secrets
import stat
import time

from twisted.logger import Logger

from ..config import ConfigError, MANAGEMENT_SECTION

log = Logger()

#: A shorter token is refused: it could be guessed over the network.
MIN_TOKEN_LENGTH = 16


class TokenError(Exception):
    """The token file cannot be read, or holds no usable token."""


def read_token(path):
    """The token in ``path`` (surrounding white space removed), as bytes."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(4096)
    except OSError as e:
        raise TokenError("cannot read the token file %s (%s)"
                         % (path, e.strerror or e)) from None
    token = data.strip()
    if len(token) < MIN_TOKEN_LENGTH or any(b < 0x21 or b > 0x7e for b in token):
        raise TokenError("the token file %s must hold one token of at least %d "
                         "printable characters" % (path, MIN_TOKEN_LENGTH))
    return token


def create_token_file(path):
    """Write a new random token to ``path``, which must not exist yet;
    returns the token.  Raises FileExistsError when another process (the
    pair's other node) was first."""
    token = secrets.token_urlsafe(32).encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, token + b"\n")
    finally:
        os.close(fd)
    return token


def load_or_create_token(path, attempts=20):
    """The token of ``path``, creating the file when it is absent.

    Runs once at start-up, before the reactor: the short waits below only
    cover the other node of a pair creating the same file at the same
    instant (its write is not visible yet).
    """
    for attempt in range(attempts):
        try:
            token = create_token_file(path)
        except FileExistsError:
            pass
        except OSError as e:
            raise TokenError("cannot create the token file %s (%s); create it "
                             "yourself (see README.rst, Operating sipredirect)"
                             % (path, e.strerror or e)) from None
        else:
            log.info("management token file {path} did not exist: created it with a "
                     "new random token (mode 0600)", path=path)
            return token
        try:
            token = read_token(path)
        except TokenError:
            if attempt + 1 == attempts:
                raise
            time.sleep(0.05)
            continue
        _warn_if_readable_by_others(path)
        return token
    raise TokenError("cannot read the token file %s" % path)  # pragma: no cover


def _warn_if_readable_by_others(path):
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if mode & stat.S_IROTH:
        log.warn("management token file {path} is readable by every user "
                 "(chmod 600 it)", path=path)


def management_token(config):
    """The token for ``config``'s management endpoint, or None when the
    INI names no token file (then only /metrics, /health and /ready are
    served).  Raises ConfigError naming the option when the file is
    unusable: a server must not start with a management API it cannot
    protect."""
    path = config.management.token_file
    if not path or not config.management.endpoint:
        return None
    try:
        return load_or_create_token(path)
    except TokenError as e:
        raise ConfigError(str(e), config.path, MANAGEMENT_SECTION, "token-file",
                          path) from None
