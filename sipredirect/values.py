"""Immutable slot classes with equality: the actions the cores return and
the header values the parse memos share.

A parse memo hands the same Via, URI or address to every message that
repeats its text, and tests compare whole action sequences with ``==``:
both need values that nobody can change after construction and that
compare by content.  ``dataclass(frozen=True)`` gives that, but has no
``slots`` before Python 3.10 (the project runs on PyPy 3.9), and its
``__init__`` goes through ``object.__setattr__`` for every field, twice
the cost of a plain slot class on the call path.  :class:`Value`
generates an ``__init__`` that stores through the slots' own descriptors
instead, which leaves ``__setattr__`` free to refuse every later change.
"""

import sys
from operator import attrgetter

try:
    from mypy_extensions import mypyc_attr
except ImportError:  # at run time mypy_extensions is needed by no one
    def mypyc_attr(**_attrs):  # type: ignore[misc]
        return lambda cls: cls

# How the generated __init__ stores a field: CPython calls the slot's own
# descriptor faster than object.__setattr__, PyPy's JIT the other way round
# (about 0.6 against 2.2 times a plain slot store).
_BY_DESCRIPTOR = sys.implementation.name != "pypy"


@mypyc_attr(native_class=False)
class ValueType(type):
    """The metaclass of :class:`Value`: gives each subclass its ``_fields``,
    its ``_key`` and, unless it writes its own, the generated ``__init__``.

    A metaclass rather than ``__init_subclass__`` because mypyc (the
    optional compiled build of the SIP layer, see ``setup.py``) turns
    every class it compiles into a native class with a fixed layout and
    ``__init__``, which cannot take a generated one; it leaves classes
    with a metaclass of their own as ordinary Python classes.
    """

    def __init__(cls, name, bases, namespace, **kwargs):
        super().__init__(name, bases, namespace, **kwargs)
        if not bases:
            return  # Value itself
        fields = []
        for klass in reversed(cls.__mro__):
            slots = klass.__dict__.get("__slots__", ())
            fields.extend([slots] if isinstance(slots, str) else slots)
        cls._fields = tuple(fields)
        cls._key = attrgetter(*fields) if fields else staticmethod(_no_fields)
        if "__init__" not in namespace:
            cls.__init__ = _make_init(cls)


class Value(metaclass=ValueType):
    """Base of an immutable value: fields in ``__slots__``, in the order of
    the generated ``__init__``'s arguments.

    A subclass may give ``_defaults`` (field -> default of a trailing
    argument) and ``_convert`` (field -> function applied on
    construction, e.g. ``tuple`` so that a list passed in cannot be
    changed through the caller's reference).  Instances compare equal when
    they are of the same class with equal fields, hash accordingly (unless
    the class defines its own ``__eq__``), and refuse attribute
    assignment.  Plain class attributes and properties may add derived
    values.
    """

    __slots__ = ()
    _fields: tuple = ()
    _defaults: dict = {}
    _convert: dict = {}

    def __setattr__(self, name, value):
        raise AttributeError("%s is immutable: cannot set %s" % (type(self).__name__, name))

    def __delattr__(self, name):
        raise AttributeError("%s is immutable: cannot delete %s"
                             % (type(self).__name__, name))

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self._key(self) == other._key(other)

    def __hash__(self):
        return hash((type(self).__name__, self._key(self)))

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(
            "%s=%r" % (name, getattr(self, name)) for name in self._fields))

    def __reduce__(self):
        """Copy and pickle through the constructor (the default way sets
        attributes, which a value refuses)."""
        return (type(self), tuple(getattr(self, name) for name in self._fields))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def _no_fields(value):
    return ()


def _make_init(cls):
    """``__init__(self, field, ...)`` storing each argument through its
    slot's descriptor or ``object.__setattr__`` (so bypassing the refusing
    ``__setattr__``).  The helpers it calls are closure variables of a
    factory rather than globals: PyPy reads those faster from a namespace
    that is not a module's."""
    helpers = {"_object_setattr": object.__setattr__, "_tuple": tuple, "_type": type}
    arguments = []
    lines = []
    for name in cls._fields:
        holder = next(k for k in cls.__mro__ if name in k.__dict__.get("__slots__", ()))
        helpers["_set_" + name] = holder.__dict__[name].__set__
        if name in cls._defaults:
            helpers["_default_" + name] = cls._defaults[name]
            arguments.append("%s=_default_%s" % (name, name))
        else:
            arguments.append(name)
        value = name
        convert = cls._convert.get(name)
        if convert is tuple:
            # The common case, a tuple already, without a call.
            value = "%s if _type(%s) is _tuple else _tuple(%s)" % (name, name, name)
        elif convert is not None:
            helpers["_convert_" + name] = convert
            value = "_convert_%s(%s)" % (name, name)
        if _BY_DESCRIPTOR:
            lines.append("        _set_%s(self, %s)\n" % (name, value))
        else:
            lines.append("        _object_setattr(self, %r, %s)\n" % (name, value))
    source = ("def _factory(%s):\n    def __init__(self, %s):\n%s        pass\n"
              "    return __init__\n" % (", ".join(helpers), ", ".join(arguments),
                                         "".join(lines)))
    namespace = {}
    exec(source, namespace)
    init = namespace["_factory"](**helpers)
    init.__qualname__ = cls.__qualname__ + ".__init__"
    init.__module__ = cls.__module__
    return init


__all__ = ["Value", "ValueType"]
