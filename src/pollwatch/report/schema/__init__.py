"""The JSON Schema (draft 2020-12) of ``results.json``, shipped with the package.

``results.schema.json`` beside this module describes every key :func:`pollwatch.write_all`
writes; ``schema_version`` in each file names the version it follows
(:data:`pollwatch.results.RESULTS_SCHEMA_VERSION`). ``docs/outputs.md`` explains the blocks for a
reader. Validate a file with any draft 2020-12 validator, e.g. the ``jsonschema`` package::

    import json, jsonschema
    from pollwatch.report.schema import results_schema
    jsonschema.validate(json.load(open("out/results.json")), results_schema())
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

SCHEMA_FILE = "results.schema.json"


def results_schema() -> dict[str, Any]:
    """The JSON Schema of ``results.json`` (a new dict on each call)."""
    text = files(__name__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


__all__ = ["SCHEMA_FILE", "results_schema"]
