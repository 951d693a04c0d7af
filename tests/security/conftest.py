"""The service fixtures (``ctx`` over SQLite and PostgreSQL, ``pg``, fast hashing) of
``tests/service/conftest.py``, for the attack tests here (no package: loaded by path)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_service_conftest", Path(__file__).resolve().parents[1] / "service" / "conftest.py"
)
service = sys.modules["_service_conftest"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(service)

ctx = service.ctx
pg = service.pg
_fast_hashing = service._fast_hashing
