"""Polling stations (imported with their election, see ``importer``); who is assigned where is
``permissions.assigned_station_ids``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pollwatch.i18n import N_
from pollwatch.service import models as m
from pollwatch.service.errors import NotFound


def get_station(session: Session, station_id: int) -> m.Station:
    s = session.get(m.Station, station_id)
    if s is None:
        raise NotFound(N_("Station not found"))
    return s
