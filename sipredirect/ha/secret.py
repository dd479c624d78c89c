"""The pair's shared secret: given inline (``[ha] secret``) or read from
``[ha] secret-file``, which the first node to start creates when absent.

A secret shipped in the repository is no secret, so the example INIs name
a file instead; two nodes on one machine starting at the same moment must
end up with the same secret, so the file appears atomically (written
aside, then hard-linked into place: the loser of the race reads the
winner's complete file).
"""

import os
import secrets
import stat
import tempfile

from twisted.logger import Logger

from ..config import ConfigError

MIN_SECRET = 32
SECTION = "ha"
log = Logger()


def check_inline(secret, path):
    """``[ha] secret`` must be long enough to resist guessing."""
    if len(secret.encode("utf-8")) < MIN_SECRET:
        raise ConfigError("is shorter than %d bytes; use secret-file (created with a "
                          "random secret when absent) or a longer secret" % MIN_SECRET,
                          path, SECTION, "secret", "(hidden)")


def read_secret_file(secret_file, config_path):
    """The secret in ``secret_file`` (surrounding white space removed),
    created first if the file does not exist; raises ConfigError."""
    where = dict(path=config_path, section=SECTION, option="secret-file",
                 value=secret_file)
    if not os.path.exists(secret_file):
        _create(secret_file, where)
    try:
        with open(secret_file, "rb") as handle:
            info = os.fstat(handle.fileno())
            data = handle.read(4096).strip()
    except OSError as e:
        raise ConfigError("cannot read it (%s)" % (e.strerror or e), **where) from None
    if info.st_mode & stat.S_IROTH:
        raise ConfigError("is readable by every user of the machine (chmod 600 it)",
                          **where)
    if len(data) < MIN_SECRET:
        raise ConfigError("holds %d bytes; a secret needs at least %d" % (len(data),
                                                                         MIN_SECRET),
                          **where)
    return data


def _create(secret_file, where):
    directory = os.path.dirname(secret_file) or "."
    try:
        fd, temporary = tempfile.mkstemp(prefix=".ha-secret-", dir=directory)  # mode 0600
    except OSError as e:
        raise ConfigError("absent, and it cannot be created (%s)" % (e.strerror or e),
                          **where) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_hex(32).encode("ascii") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, secret_file)
        except FileExistsError:
            return  # the peer node created it first: use its secret
        except OSError as e:
            raise ConfigError("absent, and it cannot be created (%s)"
                              % (e.strerror or e), **where) from None
        log.info("HA: created {secret_file} with a random secret (mode 0600); give the "
                 "peer node the same file", secret_file=secret_file)
    finally:
        try:
            os.unlink(temporary)
        except OSError:
            pass


def ha_secret(ha, config_path):
    """The secret as bytes for a parsed ``[ha]`` section (idempotent: the
    file is read once)."""
    if getattr(ha, "secret_key", None) is None:
        if ha.secret_file:
            ha.secret_key = read_secret_file(ha.secret_file, config_path)
        else:
            ha.secret_key = ha.secret.encode("utf-8")
    return ha.secret_key
