"""Plain functions over a Session, one module per resource: no HTTP here. Every create/update
appends an audit entry in the same transaction (``audit.record``); callers commit. Who may do
what is decided by :mod:`pollwatch.service.permissions`, which every module here calls.

``users`` (users, passwords, tokens), ``elections`` (and the roster), ``stations``,
``accreditations``, ``assignments``, ``submissions`` (checklists, incidents, protocol copies),
``media``, ``sms_log`` (the encrypted SMS log and its retention), ``cameras`` (camera watchers' tallies and logs), ``dossier`` (a station's dossier).
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
from pollwatch.service.crud.sms_log import (
    chain_sms_log,
    log_sms,
    redact_sms_log,
    sms_plaintext,
    sms_problems,
)
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
    encrypt_plaintext_rows,
    find_observer_by_phone,
    issue_token,
    personal_data,
    phone_lookup_key,
    reset_password,
    revoke_token,
    revoke_tokens,
    rotate_token,
    set_active,
    set_role,
    user_and_expiry,
    user_by_name,
    user_by_token,
    user_view,
)

__all__ = [
    "LANGUAGES",
    "assign",
    "attach_media",
    "authenticate",
    "chain_sms_log",
    "check_may_submit",
    "clean_checklist",
    "clean_incident",
    "clean_protocol",
    "create_submission",
    "create_user",
    "encrypt_plaintext_rows",
    "find_observer_by_phone",
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
    "log_sms",
    "media_files",
    "quarantine",
    "personal_data",
    "phone_lookup_key",
    "reconciled_protocol",
    "redact_sms_log",
    "request_accreditation",
    "reset_password",
    "revoke_token",
    "revoke_tokens",
    "rotate_token",
    "review",
    "roster",
    "sms_plaintext",
    "sms_problems",
    "set_active",
    "set_role",
    "store_media",
    "submission_context",
    "update_submission",
    "user_and_expiry",
    "user_by_name",
    "user_by_token",
    "user_view",
    "visible_submissions",
]
