"""The observation service: observers, stations, checklists, incidents, protocol copies, evidence.

FastAPI + SQLAlchemy 2 + Alembic (SQLite by default, PostgreSQL by URL). ``create_app`` builds
the app; ``importer.import_election`` loads stations from an :class:`~pollwatch.model.Election`;
``crud`` holds plain functions taking a Session, one module per resource; ``permissions`` is
the one rule of who may see and write what, applied by ``crud``, the writer and the SMS intake;
every write goes through ``audit.record`` in the same transaction. ``api`` serves the JSON
routes (``api/routes``), ``pages`` the server-rendered pages, ``throughput`` the fast path of
the submission POSTs (the ASGI fast path, the group-commit writer, the token cache). Needs the
``[service]`` extra: ``pip install 'pollwatch[service]'``. ``sources`` holds the adapters that
read the service's tables into the library's inputs (camera tallies, protocol copies,
observers' reports, the audit chain for export and verification). The layout is described in
``docs/architecture.md`` ("Service layout").

The service is the second layer from the top (``docs/architecture.md``): it imports the
layers below (``model``, ``errors``, ``ingest``, ``evidence``, ``quickcount``, ``cameras``,
``fusion``), and only the top layer, ``cli``, ``demo`` and ``demo_sources``, imports it.
``lint-imports`` checks this in ``make test``.
"""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(settings=None):
    """Build the FastAPI application (see ``pollwatch.service.main.create_app``)."""
    from pollwatch.service.main import create_app as _create

    return _create(settings)
