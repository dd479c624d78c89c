"""The pair's shared secret: given inline (``[ha] secret``) or read from
``[ha] secret-file``, which the first node to start creates when absent
(:mod:`sipredirect.secretfiles` says how two nodes starting at once agree).

A secret shipped in the repository is no secret, so the example INIs name
a file instead.
"""


from ..configerror import ConfigError
from ..safelog import Logger
from ..schema import HA_SECTION
from ..secretfiles import (MIN_SHARED_SECRET, SecretFileError,
                           load_or_create_secret_file)

log = Logger()


def read_secret_file(secret_file, config_path):
    """The secret in ``secret_file``, created first if the file does not
    exist; raises ConfigError naming ``[ha] secret-file``."""
    try:
        secret, created = load_or_create_secret_file(secret_file, MIN_SHARED_SECRET)
    except SecretFileError as e:
        raise ConfigError(str(e), config_path, HA_SECTION, "secret-file",
                          secret_file) from None
    if created:
        log.info("HA: created {secret_file} with a random secret (mode 0600); give the "
                 "peer node the same file", secret_file=secret_file)
    return secret


def ha_secret(ha, config_path):
    """The secret as bytes for a parsed ``[ha]`` section (idempotent: the
    file is read once)."""
    if getattr(ha, "secret_key", None) is None:
        if ha.secret_file:
            ha.secret_key = read_secret_file(ha.secret_file, config_path)
        else:
            ha.secret_key = ha.secret.encode("utf-8")
    return ha.secret_key
