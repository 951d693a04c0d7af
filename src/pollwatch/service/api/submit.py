"""Helpers shared by the three submission routers."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.checkpoints import receipt_for, stored_receipt
from pollwatch.service.throughput.writer import Draft, GroupCommitter


def builder(
    session: Session,
    user: m.User,
    body,
    kind: str,
    form: str,
    fields: Callable[[m.Station], dict],
    before_checks: Callable[[], None] | None = None,
) -> Draft:
    """The :class:`Draft` that :func:`submit` stores, for one kind of submission: the common
    columns plus ``fields(station)``, the kind's cleaned answers. The client-id lookup, the
    station and the permission checks (those of :func:`crud.submission_context`) are made when
    it is written."""
    return Draft(user, str(body.client_id), body.station_id, kind, form, fields, before_checks)


async def submit(
    response: Response,
    session: Session,
    writer: GroupCommitter,
    user: m.User,
    media_ids: list[int],
    build: Draft,
) -> m.Submission:
    """Create a submission: 201 when new, 200 with the stored one for a retried client id.

    Without media the draft goes to the group-commit writer, which checks it and commits it
    with its audit entry, awaited without holding a thread. With media attached (their checks
    belong in the same transaction) it is checked and committed on this session instead.
    """
    if media_ids:

        def prepare() -> tuple[m.Submission, bool]:
            prior, station = crud.submission_context(
                session,
                user,
                build.client_id,
                build.station_id,
                build.kind,
                build.form,
                before_checks=build.before_checks,
            )
            if prior is not None:
                session.commit()
                return prior, False
            done = crud.create_submission(
                session, user, build.make(station), media_ids, checked=True
            )
            session.commit()
            receipt = receipt_for(writer.notary, session, done[0])
            if receipt is not None:
                done[0].receipt = receipt.text()
            return done

        row, is_new = await run_in_threadpool(prepare)
    else:
        row, is_new = await writer.submit_async(build)
    if not is_new and writer.notary is not None:  # a retry: the first reply may have been lost
        receipt = await run_in_threadpool(stored_receipt, writer.notary, session, row)
        row.receipt = receipt.text() if receipt is not None else None
    response.status_code = 201 if is_new else 200
    return row
