"""Rules for sending: who may be messaged, with what, and what Meta's refusals mean."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from pywhatsapp.domain.errors import Conflict, DomainError, InvalidInput
from pywhatsapp.domain.flows.rules import check_flow_interactive
from pywhatsapp.domain.messaging.interactive import interactive_problem

# Message types Meta accepts on /messages, named as Meta names them.
SENDABLE_TYPES = frozenset(
    {
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "location",
        "contacts",
        "reaction",
        "interactive",
        "template",
    }
)
# Only templates may start (or restart) a conversation outside the 24-hour window.
WINDOW_FREE_TYPES = frozenset({"template"})


class WindowClosed(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "The 24-hour customer service window is closed: the contact has not written in the last "
            "24 hours, so only an approved template can be sent"
        )


class OptedOut(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "The contact opted out of messages (sent STOP); they must write START to opt back in"
        )


class NoChannel(Conflict):
    def __init__(self) -> None:
        super().__init__("This tenant has no active WhatsApp channel; add one at /api/v1/channels")


class ChannelPaused(Conflict):
    def __init__(self, reason: str) -> None:
        super().__init__(f"The WhatsApp channel is paused: {reason}")


class MetaRefusal(Enum):
    """What a Meta error code means for the sender, and whether trying again later can help."""

    WINDOW_CLOSED = "window_closed"
    UNDELIVERABLE = "undeliverable"
    MARKETING_STOPPED = "marketing_stopped"
    THROTTLED = "throttled"
    TOKEN_EXPIRED = "token_expired"
    INVALID_REQUEST = "invalid_request"
    OTHER = "other"

    @property
    def retryable(self) -> bool:
        return self is MetaRefusal.THROTTLED


REFUSALS = {
    131047: MetaRefusal.WINDOW_CLOSED,
    131026: MetaRefusal.UNDELIVERABLE,
    131050: MetaRefusal.MARKETING_STOPPED,
    130429: MetaRefusal.THROTTLED,
    131056: MetaRefusal.THROTTLED,
    80007: MetaRefusal.THROTTLED,
    4: MetaRefusal.THROTTLED,
    190: MetaRefusal.TOKEN_EXPIRED,
    100: MetaRefusal.INVALID_REQUEST,
    131008: MetaRefusal.INVALID_REQUEST,
    131009: MetaRefusal.INVALID_REQUEST,
    132000: MetaRefusal.INVALID_REQUEST,
    132001: MetaRefusal.INVALID_REQUEST,
    132012: MetaRefusal.INVALID_REQUEST,
}

EXPLANATIONS = {
    MetaRefusal.WINDOW_CLOSED: "Meta says the 24-hour window is closed (131047): send a template",
    MetaRefusal.UNDELIVERABLE: "Meta could not deliver the message (131026): is the number on WhatsApp?",
    MetaRefusal.MARKETING_STOPPED: "The customer stopped marketing messages from this business (131050)",
    MetaRefusal.THROTTLED: "Meta is throttling this number; try again in a few seconds",
    MetaRefusal.TOKEN_EXPIRED: (
        "The channel's access token is invalid or expired (190): the channel is paused until a new token"
        " is set"
    ),
    MetaRefusal.INVALID_REQUEST: "Meta refused the message as invalid",
    MetaRefusal.OTHER: "Meta refused the message",
}


@dataclass
class SendRefused(DomainError):
    """Meta answered the send with an error."""

    code: int
    title: str
    refusal: MetaRefusal

    def __init__(self, code: int, title: str) -> None:
        self.code = code
        # Meta's messages often start with the code again ("(#131026) Message Undeliverable").
        self.title = title.removeprefix(f"(#{code})").strip() or title
        self.refusal = REFUSALS.get(code, MetaRefusal.OTHER)
        super().__init__(f"{EXPLANATIONS[self.refusal]}. Meta: ({code}) {self.title}")


def _has(payload: Any, *keys: str) -> bool:
    return isinstance(payload, dict) and all(payload.get(key) not in (None, "", [], {}) for key in keys)


def check_payload(kind: str, payload: Any) -> None:
    """The fields Meta requires for each type, checked before anything is stored or sent.

    A flow message (`interactive` of type `flow`) also gets the defaults Meta lets one leave out."""
    problem = None
    if not payload:
        problem = f"a {kind} message needs its '{kind}' object"
    elif kind == "text" and not (_has(payload, "body") and str(payload["body"]).strip()):
        problem = "a text message needs a non-empty 'body'"
    elif kind in ("image", "video", "audio", "document", "sticker") and not (
        _has(payload, "id") or _has(payload, "link")
    ):
        problem = f"a {kind} message needs the media 'id' (from /api/v1/media) or a 'link'"
    elif kind == "location" and not _has(payload, "latitude", "longitude"):
        problem = "a location message needs 'latitude' and 'longitude'"
    elif kind == "reaction" and not (isinstance(payload, dict) and payload.get("message_id")):
        problem = "a reaction needs the 'message_id' (wamid) it reacts to"
    elif kind == "template" and not (
        _has(payload, "name")
        and isinstance(payload.get("language"), dict)
        and payload["language"].get("code")
    ):
        problem = "a template message needs 'name' and 'language': {'code': ...}"
    elif kind == "interactive" and isinstance(payload, dict) and payload.get("type") == "flow":
        problem = check_flow_interactive(payload)
    elif kind == "interactive" and not (_has(payload, "type") and _has(payload, "action")):
        problem = "an interactive message needs its 'type' and 'action'"
    elif kind == "interactive":
        problem = interactive_problem(payload)
    elif kind == "contacts" and not (isinstance(payload, list) and payload):
        problem = "a contacts message needs a list of contact cards"
    if problem:
        raise InvalidInput(problem)


def whatsapp_id(number: str) -> str:
    """A phone number as WhatsApp ids are written: digits only, with the country code, no '+'."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if not 8 <= len(digits) <= 15 or number.strip().startswith("00"):
        raise InvalidInput(f"{number!r} is not a phone number in international format (country code first)")
    return digits
