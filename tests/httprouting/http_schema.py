"""docs/http-routing.schema.json as validators of its parts."""

import json
from pathlib import Path

import jsonschema

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs"
                     / "http-routing.schema.json").read_text())


def validator(part):
    """A validator of ``part`` (request, answer, events)."""
    return jsonschema.Draft202012Validator({"$ref": "#/$defs/" + part,
                                            "$defs": SCHEMA["$defs"]})
