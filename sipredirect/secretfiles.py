"""Secrets kept in files named by the INI, not in the INI itself.

A secret in the INI file ends up in backups, tickets and repositories with
the rest of the configuration; a file of its own can be mode 0600 and left
out of all of them.  A relative path is taken from the directory of the INI
file that names it, so a configuration and its secrets move together
whatever directory the server is started from.
"""

import os


def secret_path(value, ini_path):
    """``value`` (an option's text) as a path: relative ones from the INI's
    directory (the current directory when the INI is not a file)."""
    path = os.path.expanduser(value)
    if os.path.isabs(path) or not ini_path or str(ini_path).startswith("<"):
        return path
    return os.path.join(os.path.dirname(os.path.abspath(str(ini_path))), path)


def read_secret(value, ini_path, section, option):
    """The secret in the file ``value`` names: its text without the line
    end, which must not be empty; a :class:`~sipredirect.config.ConfigError`
    naming file, section, option and value otherwise."""
    from .config import ConfigError
    path = secret_path(value, ini_path)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as e:
        raise ConfigError("cannot read %s (%s)" % (path, e.strerror or e), ini_path,
                          section, option, value) from None
    except UnicodeDecodeError:
        raise ConfigError("%s is not UTF-8 text" % path, ini_path, section, option,
                          value) from None
    secret = text.rstrip("\r\n")
    if not secret:
        raise ConfigError("%s is empty" % path, ini_path, section, option, value)
    return secret
