"""A new template as it is submitted to Meta for review, checked against Meta's documented rules first.

Meta answers a malformed template with a terse "Invalid parameter" (or rejects it hours later in review);
checking here names the exact problem at once. The rules are those of Meta's template guidelines: a name of
lowercase letters, digits and underscores (at most 512), a known category, a body with text (at most 1,024
characters), placeholders `{{1}}..{{n}}` without gaps (or all named, with `parameter_format` NAMED), never
two side by side, and example values for every placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.templates.parameters import (
    HEADER_FORMATS,
    MAX_BODY_TEXT,
    MAX_HEADER_TEXT,
    MEDIA_FORMATS,
    NAMED_NAME,
    POSITIONAL_NAME,
    is_named,
    placeholders,
    variables,
)

TEMPLATE_NAME = re.compile(r"^[a-z0-9_]+$")
MAX_NAME = 512
LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Za-z]{2,4})?$")
CATEGORIES = ("AUTHENTICATION", "MARKETING", "UTILITY")
COMPONENT_TYPES = ("HEADER", "BODY", "FOOTER", "BUTTONS")
PARAMETER_FORMATS = ("POSITIONAL", "NAMED")
MAX_FOOTER_TEXT = 60
MAX_BUTTONS = 10
MAX_BUTTON_TEXT = 25
MAX_BUTTON_URL = 2000
MAX_PHONE_NUMBER = 20
BUTTON_TYPES = (
    "QUICK_REPLY",
    "URL",
    "PHONE_NUMBER",
    "COPY_CODE",
    "OTP",
    "FLOW",
    "CATALOG",
    "MPM",
    "VOICE_CALL",
)
ADJACENT = re.compile(r"\}\}\{\{")


@dataclass(frozen=True)
class TemplateDraft:
    name: str
    language: str
    category: str
    components: list[dict[str, Any]] = field(default_factory=list)
    parameter_format: str = "POSITIONAL"

    def as_meta_request(self) -> dict[str, Any]:
        """The body of `POST /{waba_id}/message_templates`."""
        body: dict[str, Any] = {
            "name": self.name,
            "language": self.language,
            "category": self.category,
            "components": self.components,
        }
        if self.parameter_format == "NAMED":
            body["parameter_format"] = "NAMED"
        return body


def _text(component: Mapping[str, Any], where: str, limit: int, *, required: bool = True) -> str:
    text = component.get("text")
    if text is None and not required:
        return ""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"the {where} needs its 'text'")
    if len(text) > limit:
        raise InvalidInput(f"the {where} text has {len(text)} characters; Meta allows {limit}")
    return text


def _check_placeholders(text: str, where: str, named: bool) -> list[str]:
    """The text's variables, after checking they are all of the template's kind and numbered 1..n."""
    names = placeholders(text)
    if not names:
        return []
    if ADJACENT.search(text):
        raise InvalidInput(
            f"the {where} has two placeholders side by side; Meta rejects that: put text between"
        )
    for name in names:
        if not (POSITIONAL_NAME.match(name) or NAMED_NAME.match(name)):
            raise InvalidInput(
                f"the {where} has a placeholder {{{{{name}}}}}: "
                "use {{1}}, {{2}}... or lowercase names"
            )
    named_ones = [not POSITIONAL_NAME.match(name) for name in names]
    if any(named_ones) and not all(named_ones):
        raise InvalidInput(f"the {where} mixes numbered and named placeholders; use one kind")
    if all(named_ones) and not named:
        raise InvalidInput(f"the {where} uses named placeholders: set parameter_format to NAMED")
    if not any(named_ones) and named:
        raise InvalidInput(f"the {where} uses numbered placeholders, but parameter_format is NAMED")
    found = variables(text)
    if not named and found != [str(n) for n in range(1, len(found) + 1)]:
        shown = ", ".join(f"{{{{{n}}}}}" for n in found)
        raise InvalidInput(
            f"the {where} placeholders must be {{{{1}}}} to {{{{{len(found)}}}}} without gaps, not {shown}"
        )
    return found


def _check_examples(
    component: Mapping[str, Any], kind: str, wanted: list[str], where: str, named: bool
) -> None:
    """Meta needs a sample value for every placeholder, in `example`, to review the template."""
    if not wanted:
        return
    example = component.get("example")
    example = example if isinstance(example, Mapping) else {}
    if named:
        samples = example.get(f"{kind}_text_named_params")
        given: dict[str, str] = {
            str(s.get("param_name")): s["example"]
            for s in (samples if isinstance(samples, list) else [])
            if isinstance(s, Mapping) and isinstance(s.get("example"), str)
        }
        missing = [n for n in wanted if not given.get(n, "").strip()]
        if missing:
            raise InvalidInput(
                f"the {where} needs example values: example.{kind}_text_named_params with "
                f"{{'param_name': {missing[0]!r}, 'example': ...}} for every placeholder"
            )
        return
    samples = example.get(f"{kind}_text")
    row = samples[0] if kind == "body" and isinstance(samples, list) and samples else samples
    values = row if isinstance(row, list) else []
    if len(values) != len(wanted) or not all(isinstance(v, str) and v.strip() for v in values):
        shape = "[[...]]" if kind == "body" else "[...]"
        raise InvalidInput(
            f"the {where} has {len(wanted)} placeholder{'s' if len(wanted) != 1 else ''}: "
            f"give as many example values in example.{kind}_text as {shape}"
        )


def _check_header(header: Mapping[str, Any], named: bool) -> None:
    header_format = str(header.get("format") or "").upper()
    if header_format not in HEADER_FORMATS:
        raise InvalidInput(f"a header's format must be one of {', '.join(HEADER_FORMATS)}")
    if header_format == "TEXT":
        text = _text(header, "header", MAX_HEADER_TEXT)
        wanted = _check_placeholders(text, "header", named)
        if len(wanted) > 1:
            raise InvalidInput("a text header may have at most one placeholder")
        _check_examples(header, "header", wanted, "header", named)
    elif header_format in MEDIA_FORMATS:
        example = header.get("example")
        handles = example.get("header_handle") if isinstance(example, Mapping) else None
        if not (isinstance(handles, list) and handles and all(isinstance(h, str) and h for h in handles)):
            raise InvalidInput(
                f"a {header_format.lower()} header needs a sample: example.header_handle with an uploaded "
                "file's handle"
            )


def _check_buttons(component: Mapping[str, Any]) -> None:
    buttons = component.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise InvalidInput("the buttons component needs a list of 'buttons'")
    if len(buttons) > MAX_BUTTONS:
        raise InvalidInput(f"a template may have at most {MAX_BUTTONS} buttons")
    for index, button in enumerate(buttons):
        where = f"button {index}"
        if not isinstance(button, Mapping):
            raise InvalidInput(f"{where} must be an object")
        kind = str(button.get("type") or "").upper()
        if kind not in BUTTON_TYPES:
            raise InvalidInput(f"{where}: type must be one of {', '.join(BUTTON_TYPES)}")
        if kind in ("QUICK_REPLY", "URL", "PHONE_NUMBER"):
            _text(button, where, MAX_BUTTON_TEXT)
        if kind == "PHONE_NUMBER":
            phone = button.get("phone_number")
            if not isinstance(phone, str) or not phone.strip() or len(phone) > MAX_PHONE_NUMBER:
                raise InvalidInput(
                    f"{where}: a phone number button needs 'phone_number' (at most 20 characters)"
                )
        if kind == "URL":
            url = button.get("url")
            if (
                not isinstance(url, str)
                or not url.startswith(("https://", "http://"))
                or len(url) > MAX_BUTTON_URL
            ):
                raise InvalidInput(
                    f"{where}: a URL button needs an http(s) 'url' of at most {MAX_BUTTON_URL} characters"
                )
            names = placeholders(url)
            if names and (names != ["1"] or not url.rstrip().endswith("}}")):
                raise InvalidInput(f"{where}: a URL may have one placeholder, {{{{1}}}}, at its end")
            example = button.get("example")
            if names and not (
                isinstance(example, list) and example and isinstance(example[0], str) and example[0]
            ):
                raise InvalidInput(f"{where}: a URL with a placeholder needs 'example': [a full sample URL]")
        if kind == "COPY_CODE":
            example = button.get("example")
            if not (isinstance(example, str) and example) and not (isinstance(example, list) and example):
                raise InvalidInput(f"{where}: a copy code button needs an 'example' code")


def validate_draft(
    *,
    name: str,
    language: str,
    category: str,
    components: Any,
    parameter_format: str | None = None,
) -> TemplateDraft:
    """The draft, normalised (upper-case category and types, the parameter format settled);
    InvalidInput names the first rule it breaks."""
    if not isinstance(name, str) or not TEMPLATE_NAME.match(name):
        raise InvalidInput("a template name may hold only lowercase letters, digits and underscores")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"a template name has at most {MAX_NAME} characters")
    if not isinstance(language, str) or not LANGUAGE.match(language):
        raise InvalidInput(f"{language!r} is not a template language code such as en, en_US or pt_BR")
    category = str(category or "").upper()
    if category not in CATEGORIES:
        raise InvalidInput(f"category must be one of {', '.join(CATEGORIES)}")
    if not isinstance(components, list) or not all(isinstance(c, Mapping) for c in components):
        raise InvalidInput("components must be a list of objects (HEADER, BODY, FOOTER, BUTTONS)")
    normalised: list[dict[str, Any]] = []
    for component in components:
        kind = str(component.get("type") or "").upper()
        if kind not in COMPONENT_TYPES:
            raise InvalidInput(f"a component's type must be one of {', '.join(COMPONENT_TYPES)}")
        if any(c["type"] == kind for c in normalised):
            raise InvalidInput(f"a template has at most one {kind} component")
        normalised.append({**component, "type": kind})
    by_type = {c["type"]: c for c in normalised}
    texts = [str(by_type[k].get("text") or "") for k in ("HEADER", "BODY") if k in by_type]
    if parameter_format is None:
        named = any(is_named(placeholders(t)) for t in texts)
    else:
        parameter_format = parameter_format.upper()
        if parameter_format not in PARAMETER_FORMATS:
            raise InvalidInput("parameter_format must be POSITIONAL or NAMED")
        named = parameter_format == "NAMED"

    body = by_type.get("BODY")
    if body is None:
        raise InvalidInput("a template needs a BODY component with its text")
    # Authentication templates get their body text from Meta (the code and its security note).
    if category != "AUTHENTICATION" or body.get("text") is not None:
        text = _text(body, "body", MAX_BODY_TEXT)
        wanted = _check_placeholders(text, "body", named)
        _check_examples(body, "body", wanted, "body", named)
    if "HEADER" in by_type:
        _check_header(by_type["HEADER"], named)
    if "FOOTER" in by_type:
        footer_text = _text(
            by_type["FOOTER"], "footer", MAX_FOOTER_TEXT, required=category != "AUTHENTICATION"
        )
        if placeholders(footer_text):
            raise InvalidInput("a footer may not have placeholders")
    if "BUTTONS" in by_type:
        _check_buttons(by_type["BUTTONS"])
    return TemplateDraft(
        name=name,
        language=language,
        category=category,
        components=normalised,
        parameter_format="NAMED" if named else "POSITIONAL",
    )
