"""What every fuzz target shares: running under atheris when asked to.

Targets import nothing from atheris at module level, so that the unit test
(tests/test_fuzz_targets.py) can import them and run ``test_one_input``
over the seed corpus on a machine without atheris.
"""

import importlib
import sys


def run(module_name, argv=None):
    """Fuzz ``module_name``'s ``test_one_input`` with atheris (libFuzzer
    arguments in ``argv``, default ``sys.argv``).

    The target and sipredirect are imported again inside atheris'
    instrumentation, and only they: instrumenting everything already
    loaded (Twisted too) took minutes before the first input.
    """
    import atheris  # only here: the targets import without it
    for name in list(sys.modules):
        if name.split(".")[0] == "sipredirect" or name == module_name:
            del sys.modules[name]
    with atheris.instrument_imports(include=["sipredirect", module_name]):
        module = importlib.import_module(module_name)
    atheris.Setup(list(sys.argv if argv is None else argv), module.test_one_input)
    atheris.Fuzz()
