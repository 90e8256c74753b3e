"""Phone numbers as WhatsApp knows them: E.164 digits without '+' (the `wa_id` Meta sends in webhooks).

Numbering plans are a rulebook, not a technology: the domain asks Google's libphonenumber (the
`phonenumbers` package, pure data and functions, no I/O) what a number is, so that a number typed as
`+1 (415) 555-0100`, `001 415 555 0100`, `14155550100` or `(415) 555-0100` (in a US default region)
becomes the one contact `14155550100`. The import-linter contract keeps frameworks, ORMs, SDKs and I/O
libraries out of the domain; this is none of those.

How a number without a leading '+' is read:

* `00` or the default region's international prefix (011 in the US) introduce a country code;
* bare digits are read first as a WhatsApp id (country code first, as Meta writes them), then as a
  national number of the default region;
* anything else (spaces, dashes, parentheses) is read first as a national number of the default region,
  then as a WhatsApp id.

A number must be valid by its country's plan (right length, assigned ranges), not merely possible.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat

from pywhatsapp.domain.errors import InvalidInput

MAX_INPUT_LENGTH = 64
SEPARATORS = " -.()/\u00a0"


class InvalidPhoneNumber(InvalidInput):
    """The text is not a valid phone number (in the default region, or with a country code)."""


def known_region(code: str) -> str:
    """A region code for numbers without a country code (ISO 3166 alpha-2, as libphonenumber knows it)."""
    region = code.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"{code!r} is not a region code libphonenumber knows (e.g. US, GB, DE, IN)")
    return region


def _parse(text: str, region: str | None) -> PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def normalize_phone(raw: str, default_region: str) -> str:
    """The WhatsApp id (E.164 digits, no '+') of `raw`; InvalidPhoneNumber if it is not a valid number."""
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("the phone number is empty")
    if len(text) > MAX_INPUT_LENGTH or "\x00" in text:
        raise InvalidPhoneNumber(f"{raw[:MAX_INPUT_LENGTH]!r} is not a phone number")
    compact = "".join(ch for ch in text if ch not in SEPARATORS)
    if compact.startswith("00") and compact[2:].isdigit():
        text = "+" + compact[2:]  # the common international prefix, whatever the default region's is
    if text.startswith("+"):
        attempts: list[tuple[str, str | None]] = [(text, None)]
    elif text.isdigit():
        attempts = [("+" + compact, None), (text, default_region)]
    else:
        attempts = [(text, default_region), ("+" + compact, None)]
    for candidate, region in attempts:
        number = _parse(candidate, region)
        if number is not None:
            number.extension = None  # WhatsApp reaches a line, not an extension
            return phonenumbers.format_number(number, PhoneNumberFormat.E164).removeprefix("+")
    raise InvalidPhoneNumber(
        f"{raw!r} is not a valid phone number"
        + ("" if text.startswith("+") else f" (with a country code, or in region {default_region})")
    )


def display_phone(wa_id: str) -> str:
    """`+` and the digits: how exports write a WhatsApp id, so that any spreadsheet keeps it a number."""
    return "+" + wa_id
