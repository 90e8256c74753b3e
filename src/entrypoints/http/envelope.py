"""Every JSON answer, success or error, travels in the same envelope."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

import msgspec

T = TypeVar("T")


class Envelope(msgspec.Struct, Generic[T]):
    data: T
    message: str = "Success"
    status: Literal["ok"] = "ok"


class ErrorEnvelope(msgspec.Struct):
    message: str
    data: None = None
    status: Literal["error"] = "error"


class ListPage(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def ok(data: T, message: str = "Success") -> Envelope[T]:
    return Envelope(data=data, message=message)


def error_body(message: str) -> dict[str, Any]:
    return {"data": None, "message": message, "status": "error"}
