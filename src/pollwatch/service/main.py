"""``create_app(settings)``: the FastAPI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gc
import json
import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.utils import is_body_allowed_for_status_code
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

import pollwatch
from pollwatch.evidence.keys import load_or_create_secret
from pollwatch.evidence.media import MediaStore
from pollwatch.i18n import N_, gettext
from pollwatch.service import forms, privacy, security
from pollwatch.service.api.deps import request_language
from pollwatch.service.api.fastpath import SubmissionFastPath
from pollwatch.service.api.main import api_router
from pollwatch.service.api.routes import checklists, incidents, protocols
from pollwatch.service.checkpoints import CheckpointJob, Notary
from pollwatch.service.config import Settings
from pollwatch.service.crud.sms_log import chain_sms_log
from pollwatch.service.crud.users import encrypt_plaintext_rows
from pollwatch.service.db import make_engine, migrate, reader, session_factory
from pollwatch.service.errors import Invalid, ServiceError, translate, validation_errors
from pollwatch.service.limits import BodyLimit, Gate
from pollwatch.service.pages.main import page_router
from pollwatch.service.throttle import LoginThrottle, TooManyAttempts
from pollwatch.service.throughput.tokens import TokenCache
from pollwatch.service.throughput.writer import GroupCommitter
from pollwatch.service.websecurity import BrowserGuard, csrf_key

# the texts of the replies made here (TooManyAttempts writes this text itself: it is the msgid)
THROTTLED = N_("Too many failed logins; try again later")
OUT_OF_RANGE = N_("Value out of range")

# the submission POSTs, nearly all of election day's traffic, skip FastAPI's router (fastpath)
FAST_ROUTES = (incidents.create_incident, checklists.create_checklist, protocols.create_protocol)


class AsciiJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: an error that quotes what the client sent
    (a lone surrogate, any byte) always encodes."""

    def render(self, content) -> bytes:
        return json.dumps(
            content, ensure_ascii=True, allow_nan=False, separators=(",", ":")
        ).encode()


def create_app(
    settings: Settings | None = None, *, run_migrations: bool = True, fast_path: bool = True
) -> FastAPI:
    """Build the app: engine, migrations (unless told not to), media store, routers, and the
    submission fast path (``fast_path=False``: every request through FastAPI, for comparison)."""
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url, settings.pool_size, settings.sqlite_synchronous)
    if run_migrations:
        migrate(settings.database_url)
    key = settings.signing_key()  # refuses a plaintext key unless the insecure flag is set
    # no /docs or /redoc: FastAPI's pages load Swagger UI and ReDoc from a CDN (a third party
    # learns who reads the docs, and could serve them script); the schema only when configured
    app = FastAPI(
        title="pollwatch observation service",
        version=pollwatch.__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
        lifespan=_checkpoint_lifespan,
    )
    secret = load_or_create_secret(settings.data_dir)
    app.state.settings = settings
    forms.use_directory(settings.forms_dir)
    forms.forms()  # a broken checklist directory stops the start, not the first filing
    app.state.signing_key = key  # signs published quick-count estimates (crud.quickcount)
    app.state.engine = engine
    app.state.sessions = session_factory(
        engine, secret, privacy.resolve_data_key(secret, settings.data_dir)
    )
    if run_migrations:
        seal_plaintext(app.state.sessions)
    app.state.store = MediaStore(
        settings.media_dir, keep_original_metadata=settings.keep_original_metadata
    )
    app.state.reader = reader(engine)  # GET requests' sessions: no SQLite write lock
    security.limit_password_checks(settings.max_password_checks)
    app.state.csrf_key = csrf_key(secret)
    app.state.throttle = LoginThrottle.from_settings(settings)
    app.state.notary = (
        Notary(key, app.state.sessions, settings.checkpoint_origin) if settings.receipts else None
    )
    app.state.checkpoints = CheckpointJob.from_settings(settings, app.state.sessions, key)
    app.state.writer = GroupCommitter(app.state.sessions, notary=app.state.notary)
    app.state.tokens = TokenCache.for_engine(engine)  # None on SQLite
    app.include_router(api_router)
    app.include_router(page_router)
    if fast_path:
        app.add_middleware(SubmissionFastPath, fastapi=app, routes=fast_routes())
    app.add_middleware(Gate, rules=settings.gated())
    # no body is read, no user looked up, before the body's limit is known
    app.add_middleware(
        BodyLimit,
        default=settings.max_body_bytes,
        limits=settings.body_limits(),
        cookie=settings.session_cookie,
    )
    # added last, so outermost: every answer (a 413 too) gets the security headers; it
    # reads no body either
    app.add_middleware(BrowserGuard, cookie=settings.session_cookie)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    # every error's detail in the request's language (deps.request_language): the user's, else
    # Accept-Language; English (byte for byte as before) by default
    @app.exception_handler(ServiceError)
    def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        detail = exc.errors if isinstance(exc, Invalid) else exc.detail
        return AsciiJSONResponse(
            status_code=exc.status, content={"detail": translate(detail, request_language(request))}
        )

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # FastAPI's own handler, with a Msg detail translated
        headers = getattr(exc, "headers", None)
        if not is_body_allowed_for_status_code(exc.status_code):
            return Response(status_code=exc.status_code, headers=headers)
        detail = translate(exc.detail, request_language(request))
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(DataError)
    def _data_error(request: Request, exc: DataError) -> JSONResponse:
        # the last line of defence behind the schemas' bounds: a value the database refuses
        # (PostgreSQL: too long, out of range, NUL) is the client's fault, not a 500
        detail = gettext(OUT_OF_RANGE, request_language(request))
        return AsciiJSONResponse(status_code=422, content={"detail": detail})

    @app.exception_handler(RequestValidationError)
    def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes the input, and a lone surrogate in it made the 422 a 500
        errors = validation_errors(list(exc.errors()), request_language(request))
        return AsciiJSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})

    @app.exception_handler(TooManyAttempts)
    def _throttled(request: Request, exc: TooManyAttempts) -> JSONResponse:
        return JSONResponse(
            status_code=429,
            content={"detail": gettext(str(exc), request_language(request))},
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.get("/health", tags=["health"])
    def health(request: Request) -> dict:
        """Liveness check, and how this request reached the app (``pollwatch doctor`` reads it
        through the proxy: ``proxied`` says a trusted proxy forwarded the client's address,
        ``secure`` that the service treats the connection as TLS: cookies are Secure)."""
        peer = request.client.host if request.client else ""
        proxied = peer in settings.trusted_proxies and "x-forwarded-for" in request.headers
        return {
            "status": "ok",
            "proxied": proxied,
            "secure": settings.behind_tls or request.url.scheme == "https",
        }

    return app


def seal_plaintext(sessions) -> int:
    """Encrypt personal data an older version stored in the clear, then put every SMS log row
    not yet in the audit chain into it (rows from before migration 0005, which has no data
    key): both idempotent, run after migrating. Returns the rows encrypted."""

    with sessions() as session:
        n = encrypt_plaintext_rows(session)
        session.commit()
    with sessions() as session:
        chain_sms_log(session)
        session.commit()
    return n


log = logging.getLogger("pollwatch.checkpoints")


@contextlib.asynccontextmanager
async def _checkpoint_lifespan(app: FastAPI):
    """Run the checkpoint job every ``checkpoint_interval`` seconds, in one process of the
    server only (a lock file in the data directory), in a thread: it never blocks a request."""
    settings = app.state.settings
    task = None
    lock = None
    if settings.checkpoint_interval > 0:
        lock = (settings.data_dir / "checkpoint-job.lock").open("w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another worker runs it
            lock.close()
            lock = None
        else:
            task = asyncio.create_task(_checkpoint_loop(app, settings.checkpoint_interval))
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if lock is not None:
            lock.close()


async def _checkpoint_loop(app: FastAPI, interval: float) -> None:
    while True:
        try:
            await asyncio.to_thread(app.state.checkpoints.run_once)
        except Exception:  # noqa: BLE001 - logged, tried again at the next interval
            log.exception("the checkpoint job failed")
        await asyncio.sleep(interval)


def fast_routes() -> dict[str, APIRoute]:
    """``FAST_ROUTES`` by full path (``/api/incidents``)."""
    routes = (r for mod in (incidents, checklists, protocols) for r in mod.router.routes)
    return {
        api_router.prefix + r.path: r
        for r in routes
        if isinstance(r, APIRoute) and r.endpoint in FAST_ROUTES and r.methods == {"POST"}
    }


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` workers: settings from ``POLLWATCH_*``, schema already
    migrated by ``pollwatch serve`` (so several workers never race on migrations)."""
    app = create_app(Settings(), run_migrations=False)
    # A request allocates a few thousand short-lived objects, so the default thresholds ran a
    # young-generation collection every few requests, and each older one walked every module,
    # route and model built at startup: ~0.12 ms of CPU per submission (~10%). The objects of
    # startup are frozen out of collection, and collections are rarer (cycles are still
    # collected, reference counting frees the rest at once).
    gc.freeze()
    gc.set_threshold(10_000, 50, 50)
    return app
