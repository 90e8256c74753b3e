"""Meta's Graph API errors: the envelope, the HTTP status and the title of each Cloud API code.

Meta answers most Cloud API errors, the throttling ones (4, 80007, 130429, 131048, 131056) included, with
HTTP 400 and the code in the body; authentication with 401, permissions with 403, its own trouble with 5xx.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

ERROR_CODES_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


@dataclass(frozen=True)
class ErrorCode:
    http_status: int
    title: str
    details: str
    subcode: int | None = None


KNOWN_ERRORS: dict[int, ErrorCode] = {
    0: ErrorCode(401, "AuthException", "We were unable to authenticate the app user."),
    3: ErrorCode(403, "API Method", "Capability or permissions issue."),
    4: ErrorCode(400, "API Too Many Calls", "The app has reached its API call rate limit.", 2494055),
    10: ErrorCode(403, "Permission Denied", "Permission is either not granted or has been removed."),
    100: ErrorCode(400, "Invalid parameter", "Invalid parameter."),
    190: ErrorCode(401, "Access token has expired", "Error validating access token: Session has expired."),
    200: ErrorCode(403, "API Permission", "Permission is either not granted or has been removed."),
    368: ErrorCode(403, "Temporarily blocked for policies violations", "The account is temporarily blocked."),
    80007: ErrorCode(400, "Rate limit issues", "The WhatsApp Business Account has reached its rate limit."),
    130429: ErrorCode(400, "Rate limit hit", "Cloud API message throughput has been reached.", 2494055),
    130472: ErrorCode(
        400, "User's number is part of an experiment", "Message not sent as part of an experiment."
    ),
    131000: ErrorCode(500, "Something went wrong", "Message failed to send due to an unknown error."),
    131005: ErrorCode(403, "Access denied", "Permission is either not granted or has been removed."),
    131008: ErrorCode(400, "Required parameter is missing", "The request is missing a required parameter."),
    131009: ErrorCode(400, "Parameter value is not valid", "One or more parameter values are invalid."),
    131016: ErrorCode(503, "Service unavailable", "A service is temporarily unavailable."),
    131021: ErrorCode(400, "Recipient cannot be sender", "Sender and recipient phone number is the same."),
    131026: ErrorCode(400, "Message Undeliverable", "Message Undeliverable."),
    131030: ErrorCode(
        400, "Recipient phone number not in allowed list", "Add the recipient to the allowed list."
    ),
    131031: ErrorCode(403, "Account has been locked", "The Business Account is restricted or disabled."),
    131042: ErrorCode(
        400, "Business eligibility payment issue", "There was an error related to your payment."
    ),
    131045: ErrorCode(
        400, "Incorrect certificate", "Message failed to send due to a phone number registration error."
    ),
    131047: ErrorCode(
        400,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied"
        " to this number.",
    ),
    131048: ErrorCode(400, "Spam rate limit hit", "Message failed to send because of restrictions.", 2494055),
    131049: ErrorCode(
        400,
        "Meta chose not to deliver",
        "This message was not delivered to maintain healthy ecosystem engagement.",
    ),
    131050: ErrorCode(
        400,
        "User stopped marketing messages",
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages"
        " on WhatsApp from your business.",
    ),
    131051: ErrorCode(400, "Unsupported message type", "Unsupported message type."),
    131052: ErrorCode(400, "Media download error", "Unable to download the media sent by the user."),
    131053: ErrorCode(400, "Media upload error", "Unable to upload the media used in the message."),
    131056: ErrorCode(
        400,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone number to the"
        " same phone number in a short period of time.",
        2494055,
    ),
    131057: ErrorCode(500, "Account in maintenance mode", "Business Account is in maintenance mode."),
    132000: ErrorCode(400, "Template Param Count Mismatch", "The number of parameters does not match."),
    132001: ErrorCode(
        404, "Template does not exist", "The template does not exist in the specified language."
    ),
    132005: ErrorCode(400, "Template Hydrated Text Too Long", "Translated text is too long."),
    132007: ErrorCode(
        400, "Template Format Character Policy Violated", "Template content violates a policy."
    ),
    132012: ErrorCode(
        400, "Template Parameter Format Mismatch", "Variable parameter values are formatted wrong."
    ),
    132015: ErrorCode(400, "Template is Paused", "Template is paused due to low quality."),
    132016: ErrorCode(400, "Template is Disabled", "Template has been paused too many times."),
    133010: ErrorCode(400, "Phone number Not Registered", "Phone number not registered on the platform."),
    135000: ErrorCode(400, "Generic user error", "Message failed to send because of an unknown error."),
}

GENERIC_ERROR = ErrorCode(400, "Error", "The request failed.")


def error_code(code: int) -> ErrorCode:
    return KNOWN_ERRORS.get(code, GENERIC_ERROR)


def new_fbtrace_id() -> str:
    return "A" + secrets.token_urlsafe(16)[:22]


class GraphError(Exception):
    """An error answered in Meta's envelope: `{"error": {"message", "type", "code", ..., "fbtrace_id"}}`."""

    def __init__(self, status_code: int, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.status_code = status_code
        self.error = error

    @property
    def body(self) -> dict[str, Any]:
        return {"error": self.error}


def graph_error(
    code: int,
    message: str | None = None,
    *,
    details: str | None = None,
    http_status: int | None = None,
    subcode: int | None = None,
    user_title: str | None = None,
    user_msg: str | None = None,
    is_transient: bool | None = None,
) -> GraphError:
    """A Graph API error for `code`, with Meta's HTTP status and title unless told otherwise.

    Cloud API errors read `(#<code>) <title>` plus `error_data.details`, like Meta's.
    """
    known = error_code(code)
    error: dict[str, Any] = {
        "message": message if message is not None else f"(#{code}) {known.title}",
        "type": "OAuthException",
        "code": code,
    }
    if code >= 130000 or details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details or known.details}
    chosen_subcode = subcode if subcode is not None else known.subcode
    if chosen_subcode is not None:
        error["error_subcode"] = chosen_subcode
    if is_transient is not None:
        error["is_transient"] = is_transient
    if user_title is not None:
        error["error_user_title"] = user_title
    if user_msg is not None:
        error["error_user_msg"] = user_msg
    error["fbtrace_id"] = new_fbtrace_id()
    return GraphError(http_status or known.http_status, error)


def invalid_parameter(message: str, **kwargs: Any) -> GraphError:
    """Meta's `(#100) ...` validation error."""
    return graph_error(100, f"(#100) {message}", **kwargs)


def invalid_token(*, missing: bool) -> GraphError:
    message = (
        "An active access token must be used to query information about the current user."
        if missing
        else "Invalid OAuth access token - Cannot parse access token"
    )
    return graph_error(190, message, http_status=401)


def server_error() -> GraphError:
    """What Meta answers when it is the one in trouble (HTTP 500, code 2, transient)."""
    return graph_error(
        2,
        "An unexpected error has occurred. Please retry your request later.",
        http_status=500,
        is_transient=True,
    )


def status_errors(code: int, details: str | None = None) -> list[dict[str, Any]]:
    """The `errors` of a `failed` status webhook."""
    known = error_code(code)
    return [
        {
            "code": code,
            "title": known.title,
            "message": known.title,
            "error_data": {"details": details or known.details},
            "href": ERROR_CODES_HREF,
        }
    ]
