"""The FastAPI internals the submission fast path uses are still there.

``pollwatch.service.api.fastpath`` calls FastAPI's own pieces (``ModelField.validate``
and ``serialize_json``, ``APIRoute._embed_body_fields``, the ``Dependant`` fields). They are not
public API: a FastAPI release may move them. This test names the one that moved and the
installed version, rather than letting the fast path fail on the first request. pyproject sets
``fastapi>=0.130`` (``serialize_json`` is new in 0.130).
"""

from __future__ import annotations

import fastapi
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from pollwatch.service.api.fastpath import fast_route


class _In(BaseModel):
    text: str


class _Out(BaseModel):
    id: int


def _route() -> APIRoute:
    app = FastAPI()

    @app.post("/x", response_model=_Out, status_code=201)
    async def create(body: _In) -> dict:
        return {"id": 1}

    (route,) = [r for r in app.routes if isinstance(r, APIRoute)]
    return route


ATTRIBUTES = [
    ("route", "_embed_body_fields"),
    ("route", "body_field"),
    ("route", "response_field"),
    ("route", "response_model_include"),
    ("route", "response_model_exclude"),
    ("route", "response_model_by_alias"),
    ("route", "response_model_exclude_unset"),
    ("route", "response_model_exclude_defaults"),
    ("route", "response_model_exclude_none"),
    ("route.dependant", "path_params"),
    ("route.dependant", "query_params"),
    ("route.dependant", "header_params"),
    ("route.dependant", "cookie_params"),
    ("route.dependant", "body_params"),
    ("route.dependant", "request_param_name"),
    ("route.dependant", "background_tasks_param_name"),
    ("route.dependant", "response_param_name"),
    ("route.dependant", "dependencies"),
    ("route.dependant", "call"),
    ("route.body_field", "validate"),
    ("route.response_field", "validate"),
    ("route.response_field", "serialize_json"),
]


@pytest.mark.parametrize(("owner", "name"), ATTRIBUTES)
def test_fast_path_internal_is_there(owner, name):
    route = _route()
    obj = {"route": route, "route.dependant": route.dependant}.get(owner) or getattr(
        route, owner.split(".")[1]
    )
    assert hasattr(obj, name), (
        f"FastAPI {fastapi.__version__} has no {owner}.{name}: the submission fast path "
        "(pollwatch.service.api.fastpath.py) relies on it. Pin the last FastAPI that "
        "has it, or adapt the fast path."
    )


def test_fast_path_accepts_a_plain_route_and_serialises_as_fastapi():
    route = _route()
    fast = fast_route(route)
    assert fast.params == {"body": "body"}
    model, errors = route.body_field.validate({"text": "hi"}, {}, loc=("body",))
    assert not errors and model.text == "hi"
    value, errors = route.response_field.validate({"id": 7}, {}, loc=("response",))
    assert not errors
    assert route.response_field.serialize_json(value) == b'{"id":7}'
