"""Service-level exceptions raised by ``crud``; ``main`` maps them to HTTP status codes."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


class Invalid(ServiceError):
    """422 with FastAPI-shaped items: ``{"loc": [...], "msg": ..., "type": ...}``."""

    status = 422

    def __init__(self, errors: list[dict]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))
        self.errors = errors


def invalid(loc: list, msg: str, kind: str = "value_error") -> dict:
    return {"loc": loc, "msg": msg, "type": kind}
