"""The observation service: observers, stations, checklists, incidents, protocol copies, evidence.

FastAPI + SQLAlchemy 2 + Alembic (SQLite by default, PostgreSQL by URL). ``create_app`` builds
the app; ``importer.import_election`` loads stations from an :class:`~pollwatch.model.Election`;
``crud`` holds plain functions taking a Session; every write goes through ``audit.record`` in the
same transaction. Needs the ``[service]`` extra: ``pip install 'pollwatch[service]'``.
``sources`` holds the adapters that read the service's tables into the library's inputs
(camera tallies, protocol copies, observers' reports, the audit chain for export and
verification).

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
