"""The observation service: observers, stations, checklists, incidents, protocol copies, evidence.

FastAPI + SQLAlchemy 2 + Alembic (SQLite by default, PostgreSQL by URL). ``create_app`` builds
the app; ``importer.import_election`` loads stations from an :class:`~pollwatch.model.Election`;
``crud`` holds plain functions taking a Session; every write goes through ``audit.record`` in the
same transaction. Needs the ``[service]`` extra: ``pip install 'pollwatch[service]'``.
Imports ``model``, ``evidence`` and ``results``; nothing imports it except ``cli``.
"""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(settings=None):
    """Build the FastAPI application (see ``pollwatch.service.main.create_app``)."""
    from pollwatch.service.main import create_app as _create

    return _create(settings)
