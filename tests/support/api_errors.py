"""Checks of the API's error answers: `{"status": "error", "data": null, "message": ...}`."""

from __future__ import annotations

import httpx


def assert_error(response: httpx.Response, status: int, *words: str) -> str:
    """Asserts an error answer with this status whose message holds every word (any case); the message."""
    assert response.status_code == status, response.text
    envelope = response.json()
    assert envelope["status"] == "error" and envelope["data"] is None, envelope
    message: str = envelope["message"]
    for word in words:
        assert word.lower() in message.lower(), message
    return message
