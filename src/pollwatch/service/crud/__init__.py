"""Plain functions over a Session, one module per resource: no HTTP here. Every create/update
appends an audit entry in the same transaction (``audit.record``); callers commit. Who may do
what is decided by :mod:`pollwatch.service.permissions`, which every module here calls.

``users`` (users, passwords, tokens), ``elections`` (and the roster), ``stations``,
``accreditations``, ``assignments``, ``submissions`` (checklists, incidents, protocol copies),
``media``, ``cameras`` (camera watchers' tallies and logs), ``dossier`` (a station's dossier).
The functions of the API, the web pages, the CLI and the demo loader are re-exported here, so
callers write ``crud.create_user``; ``cameras`` and ``dossier`` are used as modules.
"""

from __future__ import annotations

from pollwatch.service.crud.accreditations import (
    decide_accreditation,
    list_accreditations,
    request_accreditation,
)
from pollwatch.service.crud.assignments import assign, list_assignments
from pollwatch.service.crud.elections import get_election, roster
from pollwatch.service.crud.media import attach_media, get_media, media_files, store_media
from pollwatch.service.crud.stations import get_station
from pollwatch.service.crud.submissions import (
    check_may_submit,
    clean_checklist,
    clean_incident,
    clean_protocol,
    create_submission,
    existing_by_client_id,
    get_submission,
    list_submissions,
    quarantine,
    reconciled_protocol,
    review,
    submission_context,
    update_submission,
    visible_submissions,
)
from pollwatch.service.crud.users import (
    LANGUAGES,
    authenticate,
    create_user,
    issue_token,
    revoke_token,
    user_by_token,
)

__all__ = [
    "LANGUAGES",
    "assign",
    "attach_media",
    "authenticate",
    "check_may_submit",
    "clean_checklist",
    "clean_incident",
    "clean_protocol",
    "create_submission",
    "create_user",
    "decide_accreditation",
    "existing_by_client_id",
    "get_election",
    "get_media",
    "get_station",
    "get_submission",
    "issue_token",
    "list_accreditations",
    "list_assignments",
    "list_submissions",
    "media_files",
    "quarantine",
    "reconciled_protocol",
    "request_accreditation",
    "revoke_token",
    "review",
    "roster",
    "store_media",
    "submission_context",
    "update_submission",
    "user_by_token",
    "visible_submissions",
]
