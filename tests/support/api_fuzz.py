"""What the API fuzz run needs: the OpenAPI document before any server runs, the envelope check, and
Hypothesis strategies for webhook bodies (the document describes none)."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
from hypothesis import strategies as st
from litestar.testing import TestClient
from schemathesis import Case, CheckContext, Response

from pywhatsapp.entrypoints.container import build_container
from pywhatsapp.entrypoints.http.app import create_app
from pywhatsapp.entrypoints.settings import load_settings
from tests.support.meta_samples import SampleRewriter, load_samples, message_values

OPENAPI_PATH = "/docs/openapi.json"
BODILESS_METHODS = frozenset({"OPTIONS", "HEAD"})
ENVELOPE_KEYS = frozenset({"data", "message", "status"})


def openapi_document() -> dict[str, Any]:
    """`GET /docs/openapi.json` of the app, answered in process.

    Pytest collects the operations before any database or server exists: nothing here connects to one (no
    lifespan runs, the database URL is never used). A test checks that the live app serves this document.
    """
    env = {
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/not-used-for-the-document",
        "JWT_SECRET_KEY": "openapi-document-jwt-secret-0123456789",
        "SESSION_SECRET_KEY": "openapi-document-session-secret-0123456789",
        "LOG_LEVEL": "WARNING",
    }
    app = create_app(build_container(load_settings(env, env_file=None)))
    response = TestClient(app).get(OPENAPI_PATH)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


# --- the envelope -----------------------------------------------------------------------------------------


def envelope_problem(status_code: int, content_type: str, content: bytes) -> str | None:
    """Why an answer is not in the envelope `{"data", "message", "status"}` (`"ok"` with a 2xx; `"error"`
    and `data: null` otherwise), or None when it is."""
    kind = content_type.split(";")[0].strip().lower()
    if kind != "application/json":
        return f"a {status_code} answer that is {kind!r}, not JSON: {content[:200]!r}"
    try:
        body = json.loads(content)
    except ValueError:
        return f"a {status_code} answer whose body is not JSON: {content[:200]!r}"
    if not (isinstance(body, dict) and set(body) == ENVELOPE_KEYS):
        return f"a {status_code} answer outside the envelope: {str(body)[:300]}"
    if not isinstance(body["message"], str):
        return f"a {status_code} answer whose message is not a string: {body['message']!r}"
    if 200 <= status_code < 300 and body["status"] != "ok":
        return f"a {status_code} answer with status {body['status']!r}"
    if status_code >= 300 and (body["status"] != "error" or body["data"] is not None):
        return f"a {status_code} answer with status {body['status']!r} and data {str(body['data'])[:200]}"
    return None


def assert_in_the_envelope(response: httpx.Response) -> None:
    problem = envelope_problem(
        response.status_code, response.headers.get("content-type", ""), response.content
    )
    assert problem is None, problem


def answers_in_the_envelope(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A schemathesis check: every answer is in the envelope, except those that cannot be.

    `GET /webhooks` echoes Meta's challenge as text/plain (Meta compares the body with what it sent),
    `GET /api/v1/contacts/export` is a CSV file, and `OPTIONS` is answered "204 No Content" with `Allow`:
    there is no body to wrap.
    """
    content_type = (response.headers.get("content-type") or [""])[0]
    method = case.method.upper()
    if method in BODILESS_METHODS and response.status_code == 204 and not response.content:
        return True
    if method == "GET" and case.path == "/webhooks" and response.status_code == 200:
        kind = content_type.split(";")[0].strip().lower()
        assert kind == "text/plain", f"the webhook challenge came back as {kind!r}"
        return True
    if method == "GET" and case.path == "/api/v1/contacts/export" and response.status_code == 200:
        kind = content_type.split(";")[0].strip().lower()
        assert kind == "text/csv", f"the contacts export came back as {kind!r}"
        return True
    problem = envelope_problem(response.status_code, content_type, response.content)
    assert problem is None, problem
    return True


# --- webhook bodies ---------------------------------------------------------------------------------------

SAMPLES = load_samples()
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document, the root included."""
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*prefix, index))
    return found


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    changed = copy.deepcopy(document)
    parent = changed
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return changed


@st.composite
def meta_bodies(draw: st.DrawFn, phone_number_id: str, waba_id: str) -> tuple[bytes, bool]:
    """A real Meta webhook body pointed at the test channel, with up to three values replaced by any JSON, or
    now and then bytes that are not JSON; and whether it is an untouched body about the channel's number."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=60)), False
    rewriter = SampleRewriter(phone_number_id=phone_number_id, waba_id=waba_id, run="fuzz")
    body: Any = rewriter.rewrite(draw(st.sampled_from(SAMPLES)).body)
    mutations = draw(st.integers(0, 3))
    for _ in range(mutations):
        path = draw(st.sampled_from(_paths(body)))
        body = _replace(body, path, draw(JSON_VALUES))
    names_the_channel = mutations == 0 and any(
        (value.get("metadata") or {}).get("phone_number_id") == phone_number_id
        for value in message_values(body)
    )
    return json.dumps(body).encode(), names_the_channel
