"""What a conversion produced, as plain frozen values: the writer renders
them as an INI file, the report as text, and tests compare them whole."""

from dataclasses import dataclass, field

IGNORED = "ignored"
NOT_MAPPED = "not mapped"
CHECK = "written, check"


@dataclass(frozen=True)
class Setting:
    """``option = value`` of ``section`` in the written INI, with the
    origin (:class:`~sipredirect.migrate.reader.Origin`) it came from and
    an optional note for the comment above it (a unit converted, a
    default made explicit)."""

    section: str
    option: str
    value: str
    origin: object
    note: str = ""


@dataclass(frozen=True)
class Unmapped:
    """A line of the input left out of the INI: ``kind`` is
    :data:`IGNORED` (it has no meaning for a redirect server),
    :data:`NOT_MAPPED` (it has, but cannot be carried over as written: the
    reason says what to do) or :data:`CHECK` (written, but it will not
    work as it stands)."""

    origin: object
    reason: str
    kind: str = NOT_MAPPED


@dataclass(frozen=True)
class DnSection:
    """A ``[dn:NAME]`` section: its options in order, and where the DN was
    listed."""

    name: str
    options: tuple
    origin: object
    note: str = ""


@dataclass(frozen=True)
class Migration:
    """Everything one conversion produced."""

    settings: tuple = ()
    routing_points: tuple = ()      # Setting(section "routing-points", DN, "")
    extensions: tuple = ()          # Setting(section "extensions" or "invite", ...)
    access_codes: tuple = ()        # Setting(section "access-codes", SWITCH, CODE)
    dns: tuple = ()                 # DnSection
    ha: tuple = ()                  # Setting(section "ha", ...) written as comments
    unmapped: tuple = field(default=())

    @property
    def attribute_mapping(self):
        for setting in self.settings:
            if setting.option == "attribute-mapping":
                return setting.value
        return "sipserver"
