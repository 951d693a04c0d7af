"""Service-level exceptions raised by ``crud``; ``main`` maps them to HTTP status codes.

Every message is an English msgid of the catalogues with named parameters
(``NotFound(N_("Station not found"))``, ``invalid(loc, N_("kind {kind} is not one of
{choices}"), kind=..., choices=...)``). The message is kept as a :class:`Msg`: a ``str`` whose
value is the English text (logs, ``str(exc)``, the CLI and the tests read it as before) that
also remembers its msgid and parameters, so the API's error handlers and the pages can show it
in the reader's language (:func:`translate`, :func:`error_text`). Parameters are data (codes,
names, numbers formatted as the English always wrote them) and are shown as they are, unless a
parameter is itself a ``Msg`` (then it is translated too).

``tests/service/test_error_language.py`` checks that every raise site in ``service`` passes a
marked msgid (``N_("...")``), not an f-string or a bare literal.
"""

from __future__ import annotations

from typing import Any

from pollwatch.i18n import N_, N_plural, Note, gettext, ngettext

__all__ = [
    "Conflict",
    "Forbidden",
    "Invalid",
    "Msg",
    "NotFound",
    "ServiceError",
    "error_text",
    "invalid",
    "translate",
    "validation_errors",
    "verbatim",
]


class Msg(Note):
    """English text (the ``str`` value) of ``msgid`` formatted with ``params``, translatable
    with :meth:`in_language` (:class:`pollwatch.i18n.Note` with an explicit language:
    ``None`` is English, as a request without a language gets it)."""

    def in_language(self, lang: str | None) -> str:
        """The message in ``lang`` (English: the ``str`` value itself)."""
        if not lang or lang == "en":
            return str(self)
        return self.say(lang)


class _Verbatim(Msg):
    """Text written by another layer (a checklist's or a file reader's own error), shown as it
    is in every language: it has no catalogue entry."""

    def in_language(self, lang: str | None) -> str:
        return str(self)


def verbatim(text: str) -> Msg:
    """``text`` passed through untranslated (an error message another layer wrote: an
    XLSForm's problems, a file reader's). Use only where no msgid can be given."""
    return _Verbatim("{text}", text=str(text))


def message(msgid: str | Msg, params: dict[str, Any]) -> Msg:
    """``msgid`` with ``params`` as a :class:`Msg` (a ``Msg`` without parameters as it is)."""
    if isinstance(msgid, Msg) and not params:
        return msgid
    return Msg(msgid, **params)


def translate(value: Any, lang: str | None) -> Any:
    """``value`` in ``lang``: a ``Msg`` translated, a list of FastAPI-shaped error items with
    their ``msg`` translated, anything else as it is."""
    if isinstance(value, Msg):
        return value.in_language(lang)
    if isinstance(value, list):
        return [
            {**v, "msg": translate(v["msg"], lang)} if isinstance(v, dict) and "msg" in v else v
            for v in value
        ]
    return value


class ServiceError(Exception):
    status = 400

    def __init__(self, msgid: str | Msg, /, **params: Any) -> None:
        detail = message(msgid, params)
        super().__init__(str(detail))
        self.detail: Msg | str = detail

    def text(self, lang: str | None) -> str:
        """The message in ``lang`` (``str(self)`` in English)."""
        return translate(self.detail, lang)


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
        Exception.__init__(self, _joined(errors, None))
        self.detail = str(self)
        self.errors = errors

    def text(self, lang: str | None) -> str:
        return _joined(self.errors, lang)


def _joined(errors: list[dict], lang: str | None) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {translate(e['msg'], lang)}" for e in errors)


def invalid(loc: list, msgid: str | Msg, /, *, type_: str = "value_error", **params: Any) -> dict:
    """One FastAPI-shaped problem at ``loc``: ``msgid`` (an ``N_``-marked English message)
    formatted with ``params``; ``type_`` is the item's ``type`` code."""
    return {"loc": loc, "msg": message(msgid, params), "type": type_}


def error_text(exc: BaseException, lang: str | None) -> str:
    """What a page shows for ``exc`` in ``lang``: a ``ServiceError``'s message translated
    (an ``Invalid``'s problems joined as ``str()`` joins them), any other error's ``str()``."""
    if isinstance(exc, ServiceError):
        return exc.text(lang)
    detail = getattr(exc, "detail", None)  # an HTTPException given a Msg
    return detail.in_language(lang) if isinstance(detail, Msg) else str(exc)


# FastAPI's own 422s (pydantic's messages) for the common error types: pydantic's English
# template, with the ``ctx`` values it fills in. An item is translated only when this template
# gives back pydantic's English exactly (a new pydantic wording stays English, never wrong).
_PYDANTIC = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "string_type": N_("Input should be a valid string"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "dict_type": N_("Input should be a valid dictionary"),
    "list_type": N_("Input should be a valid list"),
    "model_attributes_type": N_(
        "Input should be a valid dictionary or object to extract fields from"
    ),
    "json_invalid": N_("JSON decode error"),
    "greater_than": N_("Input should be greater than {gt}"),
    "greater_than_equal": N_("Input should be greater than or equal to {ge}"),
    "less_than": N_("Input should be less than {lt}"),
    "less_than_equal": N_("Input should be less than or equal to {le}"),
}
# (singular, plural), the ``ctx`` key that counts
_PYDANTIC_PLURAL = {
    "string_too_short": (
        N_plural(
            "String should have at least {min_length} character",
            "String should have at least {min_length} characters",
        ),
        "min_length",
    ),
    "string_too_long": (
        N_plural(
            "String should have at most {max_length} character",
            "String should have at most {max_length} characters",
        ),
        "max_length",
    ),
    "too_short": (
        N_plural(
            "List should have at least {min_length} item after validation, not {actual_length}",
            "List should have at least {min_length} items after validation, not {actual_length}",
        ),
        "min_length",
    ),
    "too_long": (
        N_plural(
            "List should have at most {max_length} item after validation, not {actual_length}",
            "List should have at most {max_length} items after validation, not {actual_length}",
        ),
        "max_length",
    ),
}


def _pydantic_msg(item: dict, lang: str) -> str | None:
    kind, ctx = item.get("type"), item.get("ctx") or {}
    try:
        if kind in _PYDANTIC:
            english, text = _PYDANTIC[kind], gettext(_PYDANTIC[kind], lang)
        elif kind in _PYDANTIC_PLURAL:
            (one, many), key = _PYDANTIC_PLURAL[kind]
            n = int(ctx[key])
            english, text = (one if n == 1 else many), ngettext(one, many, n, lang)
        else:
            return None
        if english.format(**ctx) != item.get("msg"):
            return None
        return text.format(**ctx)
    except (KeyError, ValueError, TypeError, IndexError):
        return None


def validation_errors(errors: list[dict], lang: str | None) -> list[dict]:
    """FastAPI's ``RequestValidationError.errors()`` with the messages of the common pydantic
    error types in ``lang`` (the others, and English, as pydantic wrote them)."""
    if not lang or lang == "en":
        return errors
    out = []
    for item in errors:
        text = _pydantic_msg(item, lang) if isinstance(item, dict) else None
        out.append(item if text is None else {**item, "msg": text})
    return out
