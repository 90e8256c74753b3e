"""Does a template send carry the parameters its template asks for? And what text would it show?

A template (as Meta stores it) has components: an optional HEADER (format TEXT, IMAGE, VIDEO, DOCUMENT or
LOCATION), a BODY, an optional FOOTER and optional BUTTONS. Its text holds placeholders, positional
(`{{1}}`, `{{2}}`...) or named (`{{first_name}}`, with the template's `parameter_format` NAMED). A send fills
them with the Cloud API's `components` list:

    [{"type": "header", "parameters": [{"type": "image", "image": {"link": "https://..."}}]},
     {"type": "body", "parameters": [{"type": "text", "text": "Alice"}]},
     {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "42"}]}]

Meta refuses a send whose parameters do not fit (errors 132000, 132012, 132018...) only after the message
was accepted for sending; checking here first gives the sender a clear answer at once and keeps a campaign
from spending its rate on sends that can only fail. Pure functions, standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pywhatsapp.domain.errors import InvalidInput

PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")
POSITIONAL_NAME = re.compile(r"^[1-9][0-9]*$")
NAMED_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
HEADER_FORMATS = ("TEXT", *MEDIA_FORMATS, "LOCATION")
TEXT_PARAMETER_TYPES = ("text", "currency", "date_time")
MAX_BODY_TEXT = 1024
MAX_HEADER_TEXT = 60
MAX_COUPON_CODE = 15
# Meta's 132018: a parameter's text may not hold new lines, tabs or more than four spaces in a row.
FORBIDDEN_IN_TEXT = re.compile(r"[\n\t]| {5,}")
# The send's `sub_type` that fills each kind of template button (OTP buttons are filled as URL buttons).
BUTTON_SUB_TYPES = {
    "URL": "url",
    "OTP": "url",
    "QUICK_REPLY": "quick_reply",
    "COPY_CODE": "copy_code",
    "FLOW": "flow",
    "CATALOG": "catalog",
    "MPM": "mpm",
    "VOICE_CALL": "voice_call",
}
BUTTON_PARAMETER_TYPES = {
    "url": "text",
    "quick_reply": "payload",
    "copy_code": "coupon_code",
    "flow": "action",
    "catalog": "action",
    "mpm": "action",
}
SEND_COMPONENT_TYPES = ("header", "body", "button")
UNCHECKED_SEND_COMPONENTS = ("carousel", "limited_time_offer")
"""Sent as they are: their content is checked by Meta (cards and offers have their own structure)."""


def placeholders(text: str | None) -> list[str]:
    """The placeholder names in `text`, in order of appearance (`"1"`, `"first_name"`), stripped."""
    return [match.strip() for match in PLACEHOLDER.findall(text or "")]


def is_named(names: Sequence[str]) -> bool:
    return any(not POSITIONAL_NAME.match(name) for name in names)


def variables(text: str | None) -> list[str]:
    """The distinct variables of `text` in the order a send fills them: `1..n` by number, names by
    first appearance."""
    names = list(dict.fromkeys(placeholders(text)))
    if is_named(names):
        return names
    return sorted(names, key=int)


def component_of(components: Sequence[Mapping[str, Any]], kind: str) -> Mapping[str, Any] | None:
    """The template's component of this type (HEADER, BODY, FOOTER, BUTTONS), case-insensitively."""
    for component in components:
        if isinstance(component, Mapping) and str(component.get("type", "")).upper() == kind:
            return component
    return None


def template_buttons(components: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    buttons = (component_of(components, "BUTTONS") or {}).get("buttons")
    return [b for b in buttons if isinstance(b, Mapping)] if isinstance(buttons, list) else []


def uses_named_parameters(components: Sequence[Mapping[str, Any]], parameter_format: str | None) -> bool:
    if parameter_format:
        return parameter_format.upper() == "NAMED"
    texts = [(component_of(components, kind) or {}).get("text") for kind in ("HEADER", "BODY")]
    return any(is_named(placeholders(text if isinstance(text, str) else None)) for text in texts)


# --- checking a send --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SendComponents:
    header: Mapping[str, Any] | None
    body: Mapping[str, Any] | None
    buttons: dict[int, Mapping[str, Any]]


def _parameters(component: Mapping[str, Any] | None, where: str) -> list[Mapping[str, Any]]:
    if component is None:
        return []
    parameters = component.get("parameters", [])
    if not isinstance(parameters, list) or not all(isinstance(p, Mapping) for p in parameters):
        raise InvalidInput(f"{where}: 'parameters' must be a list of objects")
    return parameters


def _button_index(component: Mapping[str, Any]) -> int:
    index = component.get("index")
    if isinstance(index, bool) or not isinstance(index, (int, str)) or not str(index).isdigit():
        raise InvalidInput("a button component needs its 'index' (0 for the first button)")
    return int(index)


def _split(send_components: Any) -> _SendComponents:
    if send_components is None:
        send_components = []
    if not isinstance(send_components, list) or not all(isinstance(c, Mapping) for c in send_components):
        raise InvalidInput("template 'components' must be a list of objects")
    header = body = None
    buttons: dict[int, Mapping[str, Any]] = {}
    for component in send_components:
        kind = str(component.get("type", "")).lower()
        if kind in UNCHECKED_SEND_COMPONENTS:
            continue
        if kind not in SEND_COMPONENT_TYPES:
            raise InvalidInput(
                f"unknown template component type {component.get('type')!r}: use header, body or button"
            )
        _parameters(component, kind)  # the shape of every part first, before counting any
        if kind == "button":
            index = _button_index(component)
            if index in buttons:
                raise InvalidInput(f"button {index} is given twice")
            buttons[index] = component
        elif (header if kind == "header" else body) is not None:
            raise InvalidInput(f"the {kind} component is given twice")
        elif kind == "header":
            header = component
        else:
            body = component
    return _SendComponents(header=header, body=body, buttons=buttons)


def _text_value(parameter: Mapping[str, Any], where: str) -> str:
    """The text a body or header parameter shows; its shape checked as Meta checks it."""
    kind = parameter.get("type")
    if kind not in TEXT_PARAMETER_TYPES:
        raise InvalidInput(f"{where}: type must be text, currency or date_time, not {kind!r}")
    if kind == "text":
        value = parameter.get("text")
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{where}: a text parameter needs a non-empty 'text'")
    else:
        inner = parameter.get(kind)
        value = inner.get("fallback_value") if isinstance(inner, Mapping) else None
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{where}: a {kind} parameter needs '{kind}': {{'fallback_value': ...}}")
        if kind == "currency" and not (
            isinstance(inner, Mapping)
            and isinstance(inner.get("code"), str)
            and isinstance(inner.get("amount_1000"), int)
        ):
            raise InvalidInput(f"{where}: a currency parameter needs 'code' and an integer 'amount_1000'")
    if FORBIDDEN_IN_TEXT.search(value):
        raise InvalidInput(
            f"{where}: a parameter may not contain new lines, tabs or more than 4 consecutive spaces"
        )
    return value


def _fill(
    text: str,
    parameters: list[Mapping[str, Any]],
    *,
    named: bool,
    where: str,
) -> str:
    """`text` with its placeholders replaced by the parameters' values; counts and names must match."""
    wanted = variables(text)
    shown = ", ".join(f"{{{{{name}}}}}" for name in wanted)
    if len(parameters) != len(wanted):
        takes = f"{len(wanted)} parameter{'s' if len(wanted) != 1 else ''}"
        raise InvalidInput(
            f"the {where} takes {takes}{f' ({shown})' if wanted else ''}, but {len(parameters)} "
            f"{'was' if len(parameters) == 1 else 'were'} given"
        )
    values: dict[str, str] = {}
    for position, parameter in enumerate(parameters, start=1):
        label = f"{where} parameter {position}"
        value = _text_value(parameter, label)
        given_name = parameter.get("parameter_name")
        if named:
            if not isinstance(given_name, str) or not given_name:
                raise InvalidInput(f"{label}: this template has named parameters; give 'parameter_name'")
            if given_name not in wanted:
                raise InvalidInput(f"{label}: the {where} has no parameter {given_name!r} (it has {shown})")
            if given_name in values:
                raise InvalidInput(f"{label}: {given_name!r} is given twice")
            values[given_name] = value
        else:
            if given_name is not None:
                raise InvalidInput(
                    f"{label}: this template has positional parameters ({{{{1}}}}...); "
                    "drop 'parameter_name' and give the values in order"
                )
            values[wanted[position - 1]] = value
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1).strip(), match.group(0)), text)


def _media_link(parameter: Mapping[str, Any], kind: str, where: str) -> str:
    media = parameter.get(kind)
    if not isinstance(media, Mapping) or not (media.get("id") or media.get("link")):
        raise InvalidInput(f"{where}: a {kind} parameter needs '{kind}': {{'id' or 'link': ...}}")
    return str(media.get("link") or media.get("id"))


def _header(
    template_header: Mapping[str, Any] | None, sent: Mapping[str, Any] | None, named: bool
) -> str | None:
    parameters = _parameters(sent, "header")
    if template_header is None:
        if sent is not None:
            raise InvalidInput("this template has no header, but a header component was given")
        return None
    header_format = str(template_header.get("format") or "TEXT").upper()
    if header_format == "TEXT":
        text = str(template_header.get("text") or "")
        filled = _fill(text, parameters, named=named, where="header")
        if len(filled) > MAX_HEADER_TEXT:
            raise InvalidInput(
                f"the header would be {len(filled)} characters long; Meta allows {MAX_HEADER_TEXT}"
            )
        return filled
    expected = header_format.lower()
    if len(parameters) != 1:
        raise InvalidInput(
            f"the template's header is a {expected}: give one header parameter of type {expected}"
        )
    (parameter,) = parameters
    if parameter.get("type") != expected:
        raise InvalidInput(
            f"the template's header is a {expected}, but a {parameter.get('type')!r} parameter was given"
        )
    if header_format == "LOCATION":
        location = parameter.get("location")
        if not isinstance(location, Mapping) or "latitude" not in location or "longitude" not in location:
            raise InvalidInput("a location header needs 'location': {'latitude', 'longitude'}")
        described = location.get("name") or location.get("address")
        place = described or f"{location['latitude']}, {location['longitude']}"
        return f"[location: {place}]"
    return f"[{expected}: {_media_link(parameter, expected, 'header')}]"


def _button(button: Mapping[str, Any], index: int, sent: Mapping[str, Any] | None) -> str:
    kind = str(button.get("type", "")).upper()
    label = str(button.get("text") or kind.replace("_", " ").lower())
    url = str(button.get("url") or "")
    needs_value = (kind == "URL" and bool(placeholders(url))) or kind in ("OTP", "COPY_CODE")
    where = f"button {index} ({kind})"
    if sent is None:
        if needs_value:
            raise InvalidInput(f"{where} needs a button component with index {index} and its parameter")
        return f"{label} ({url})" if kind == "URL" else label
    sub_type = str(sent.get("sub_type", "")).lower()
    expected = BUTTON_SUB_TYPES.get(kind)
    if expected is None:
        raise InvalidInput(f"{where} takes no parameters")
    if sub_type != expected:
        raise InvalidInput(f"{where} is filled with sub_type {expected!r}, not {sub_type!r}")
    parameters = _parameters(sent, where)
    if not parameters:
        if needs_value:
            raise InvalidInput(f"{where} needs one parameter")
        return label
    if len(parameters) != 1:
        raise InvalidInput(f"{where} takes one parameter, but {len(parameters)} were given")
    (parameter,) = parameters
    parameter_type = BUTTON_PARAMETER_TYPES.get(sub_type)
    if parameter.get("type") != parameter_type:
        raise InvalidInput(f"{where}: the parameter's type must be {parameter_type!r}")
    value = parameter.get(parameter_type) if parameter_type else None
    if parameter_type == "action":
        if not isinstance(value, Mapping):
            raise InvalidInput(f"{where}: the parameter needs an 'action' object")
        return label
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where}: the parameter needs a non-empty {parameter_type!r}")
    if kind == "URL":
        if not placeholders(url):
            raise InvalidInput(f"{where}: the button's URL is fixed ({url}); it takes no suffix")
        if any(ch.isspace() for ch in value):
            raise InvalidInput(f"{where}: a URL suffix may not contain spaces")
        return f"{label} ({PLACEHOLDER.sub(lambda _: value, url)})"
    if kind == "COPY_CODE" and len(value) > MAX_COUPON_CODE:
        raise InvalidInput(f"{where}: a coupon code has at most {MAX_COUPON_CODE} characters")
    return f"{label} ({value})" if kind in ("COPY_CODE", "OTP") else label


def render_template(
    template_components: Sequence[Mapping[str, Any]],
    send_components: Any,
    *,
    parameter_format: str | None = None,
) -> dict[str, str]:
    """The text the customer would see: `header`, `body`, `footer` and `buttons` (one line per button),
    for the parts the template has. Raises InvalidInput, naming the part, when the parameters do not fit.
    """
    sent = _split(send_components)
    named = uses_named_parameters(template_components, parameter_format)
    rendered: dict[str, str] = {}
    header = _header(component_of(template_components, "HEADER"), sent.header, named)
    if header is not None:
        rendered["header"] = header
    body = component_of(template_components, "BODY")
    if body is None:
        if _parameters(sent.body, "body"):
            raise InvalidInput("this template has no body text to fill")
    else:
        filled = _fill(str(body.get("text") or ""), _parameters(sent.body, "body"), named=named, where="body")
        if len(filled) > MAX_BODY_TEXT:
            raise InvalidInput(
                f"the body would be {len(filled)} characters long with these values; "
                f"Meta allows {MAX_BODY_TEXT}"
            )
        rendered["body"] = filled
    footer = component_of(template_components, "FOOTER")
    if footer is not None and footer.get("text"):
        rendered["footer"] = str(footer["text"])
    buttons = template_buttons(template_components)
    unknown = sorted(set(sent.buttons) - set(range(len(buttons))))
    if unknown:
        raise InvalidInput(
            f"this template has {len(buttons)} button{'s' if len(buttons) != 1 else ''}; "
            f"there is no button {unknown[0]}"
        )
    if buttons:
        rendered["buttons"] = "\n".join(
            _button(button, index, sent.buttons.get(index)) for index, button in enumerate(buttons)
        )
    return rendered


def check_template_parameters(
    template_components: Sequence[Mapping[str, Any]],
    send_components: Any,
    *,
    parameter_format: str | None = None,
) -> None:
    """Raise InvalidInput with a clear message when the send's parameters do not fit the template."""
    render_template(template_components, send_components, parameter_format=parameter_format)
