"""pollwatch: an open-source workbench for election integrity.

The stable library API (everything else lives in the capability subpackages)::

    from pollwatch import read_election, validate, analyze, simulate_election
    e = read_election("../shared/data/russia/president-2012.csv.zip")
    findings = validate(e)          # protocol arithmetic, per station
    analysis = analyze(e, seed=0)   # every forensic method, ranked stations
    write_all(analysis, "out/")     # report.html, results.json, stations.csv/.parquet

Subpackages, in layers that import only downwards (``docs/architecture.md``): ``cli`` and
``demo``; ``service``; ``report``; ``fusion``; the methods ``forensics``, ``quickcount``,
``cameras``, ``claims``, ``evidence`` and ``calibration``; ``ingest``, ``validate`` and
``simulate``; ``model``, ``errors``, ``results`` and ``compute``.
Imports are lazy so that ``import pollwatch`` stays cheap. ``pollwatch.__version__`` is the
installed distribution's version (``importlib.metadata``; ``pyproject.toml`` sets it).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

_EXPORTS = {
    "Candidate": "pollwatch.model",
    "Election": "pollwatch.model",
    "ElectionMeta": "pollwatch.model",
    "FraudConfig": "pollwatch.simulate",
    "analyze": "pollwatch.forensics.run",
    "read_election": "pollwatch.ingest",
    "simulate_election": "pollwatch.simulate",
    "validate": "pollwatch.validate",
    "write_all": "pollwatch.report",
}

__all__ = sorted(_EXPORTS)


def _installed_version() -> str:
    """The version of the installed distribution: ``pyproject.toml`` is its one source.

    A source tree run without installing (``PYTHONPATH=src``) has no distribution metadata;
    it then says so with a PEP 440 local version rather than guessing a number.
    """
    try:
        return version("pollwatch")
    except PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return _installed_version()
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'pollwatch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
