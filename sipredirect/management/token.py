"""The management API token: a random secret in a file the INI names.

The token is what separates "can reach the port" from "may drain the
server": a DNS-rebinding web page, or any local process, can reach a
loopback port, but cannot read a mode-0600 file it does not own.  When the
file does not exist yet the server creates it (mode 0600, atomically: see
:mod:`sipredirect.secretfiles`) with a fresh random token, so that a fresh
clone's first command works and ``sipredirect-ctl --config`` finds the same
token; the two nodes of a pair on one machine may share the file, and
whichever starts first creates it.
"""


from ..configerror import ConfigError
from ..safelog import Logger
from ..schema import MANAGEMENT_SECTION
from ..secretfiles import SecretFileError, load_or_create_secret_file, read_secret_file

log = Logger()

#: A shorter token is refused: it could be guessed over the network.
MIN_TOKEN_LENGTH = 16


class TokenError(Exception):
    """The token file cannot be read, or holds no usable token."""


def _checked(path, token):
    if len(token) < MIN_TOKEN_LENGTH or any(b < 0x21 or b > 0x7e for b in token):
        raise TokenError("the token file %s must hold one token of at least %d "
                         "printable characters" % (path, MIN_TOKEN_LENGTH))
    return token


def read_token(path):
    """The token in ``path`` (surrounding white space removed), as bytes:
    it travels in an HTTP header, so it must be printable ASCII."""
    try:
        return _checked(path, read_secret_file(path, min_length=0))
    except SecretFileError as e:
        raise TokenError(str(e)) from None


def load_or_create_token(path):
    """The token of ``path``, creating the file when it is absent."""
    try:
        token, created = load_or_create_secret_file(path, min_length=0)
    except SecretFileError as e:
        raise TokenError("%s; create it yourself (see "
                         "docs/reference/management.rst)" % e) from None
    if created:
        log.info("management token file {path} did not exist: created it with a "
                 "new random token (mode 0600)", path=path)
    return _checked(path, token)


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
