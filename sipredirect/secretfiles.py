"""Secrets kept in files named by the INI, not in the INI itself: the HA
pair's secret, the management API token, the router password.

A secret in the INI file ends up in backups, tickets and repositories with
the rest of the configuration; a file of its own can be mode 0600 and left
out of all of them.  A relative path is taken from the directory of the INI
file that names it, so a configuration and its secrets move together
whatever directory the server is started from.

Files the server may create (the HA secret, the API token) appear
atomically: the secret is written aside and hard-linked into place, so that
when the two nodes of a pair on one machine start at the same instant, the
one that loses the race reads the winner's complete file and both end up
with the same secret.
"""

import os
import secrets
import stat
import tempfile

#: Shortest secret accepted for a secret that guards a link (32 bytes).
MIN_SHARED_SECRET = 32

#: A secret file is read up to this size; anything longer is not a secret.
MAX_SECRET_FILE = 4096


class SecretFileError(Exception):
    """A secret file that cannot be used; the text says why and never holds
    the secret."""


def secret_path(value, ini_path):
    """``value`` (an option's text) as a path: relative ones from the INI's
    directory (the current directory when the INI is not a file)."""
    if not value:
        return value
    path = os.path.expanduser(value)
    if os.path.isabs(path) or not ini_path or str(ini_path).startswith("<"):
        return os.path.normpath(os.path.abspath(path))
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(str(ini_path))),
                                         path))


def read_secret_file(path, min_length=1):
    """The secret in ``path`` as bytes, surrounding white space removed.

    Refused: a file that cannot be read, one that every user of the machine
    may read (whoever can read it can impersonate the holder), and a secret
    shorter than ``min_length`` bytes."""
    try:
        with open(path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            data = handle.read(MAX_SECRET_FILE + 1)
    except OSError as e:
        raise SecretFileError("cannot read %s (%s)" % (path, e.strerror or e)) from None
    if mode & stat.S_IROTH:
        raise SecretFileError("%s is readable by every user of the machine "
                              "(chmod 600 it)" % path)
    if len(data) > MAX_SECRET_FILE:
        raise SecretFileError("%s is larger than %d bytes: not a secret file"
                              % (path, MAX_SECRET_FILE))
    secret = data.strip()
    if len(secret) < min_length:
        raise SecretFileError("%s holds %d bytes; the secret needs at least %d"
                              % (path, len(secret), min_length))
    return secret


def create_secret_file(path):
    """Create ``path`` with a fresh random secret (64 hexadecimal digits,
    mode 0600) unless it exists; True when this call created it."""
    directory = os.path.dirname(path) or "."
    try:
        fd, aside = tempfile.mkstemp(prefix=".secret-", dir=directory)  # mode 0600
    except OSError as e:
        raise SecretFileError("%s is absent and cannot be created (%s)"
                              % (path, e.strerror or e)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_hex(32).encode("ascii") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(aside, path)
        except FileExistsError:
            return False
        except OSError as e:
            raise SecretFileError("%s is absent and cannot be created (%s)"
                                  % (path, e.strerror or e)) from None
        return True
    finally:
        try:
            os.unlink(aside)
        except OSError:
            pass


def load_or_create_secret_file(path, min_length=1):
    """(secret, created): the secret of ``path``, the file created first
    with a random secret when it does not exist."""
    created = False
    if not os.path.exists(path):
        created = create_secret_file(path)
    return read_secret_file(path, min_length), created
