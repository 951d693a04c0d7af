"""Protocol arithmetic: each country's control relations, checked station by station.

A violation is a *finding* (rule, station, fields, expected, found): evidence to report,
never a crash. :func:`validate` returns :class:`Findings`, a columnar table with
per-rule counts and examples. Imports ``model``, ``errors`` and ``results`` only.
"""

import sys
import types

from pollwatch.validate.findings import Findings
from pollwatch.validate.rules import PROFILES, RULES, Rule, validate

__all__ = ["Findings", "PROFILES", "RULES", "Rule", "validate"]


class _CallableModule(types.ModuleType):
    """This package, callable as :func:`validate`.

    ``from pollwatch import validate`` is the documented API, but once anything has imported
    this subpackage, Python's import system binds ``pollwatch.validate`` to the module, so
    the name would silently stop being the function. Making the module callable keeps
    ``validate(election)`` working either way.
    """

    def __call__(
        self, election, profile: str | None = None, rules: tuple[str, ...] | None = None
    ) -> Findings:
        return validate(election, profile=profile, rules=rules)


sys.modules[__name__].__class__ = _CallableModule
