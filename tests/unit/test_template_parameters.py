"""Template parameters (`domain/templates/parameters.py`), new-template rules (`submission.py`), and the use
cases that lean on them: a send checked against its stored template, a sync that reads every page."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pywhatsapp.application.messaging.gateway import OutgoingMessage
from pywhatsapp.application.messaging.send_message import SendMessage, SendRequest
from pywhatsapp.application.templates.ports import MigratedPage, RemotePage, RemoteTemplate, SubmittedTemplate
from pywhatsapp.application.templates.sync_templates import SyncTemplates
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.errors import Conflict, InvalidInput
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.templates.errors import TemplateNotSendable
from pywhatsapp.domain.templates.parameters import check_template_parameters, render_template, variables
from pywhatsapp.domain.templates.submission import TemplateDraft, validate_draft
from pywhatsapp.domain.templates.template import MessageTemplate
from pywhatsapp.domain.tenancy.membership import Role
from tests.unit.fakes import FakeUnitOfWorkFactory

ORDER: list[dict[str, Any]] = [
    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} ships on {{3}}."},
    {"type": "FOOTER", "text": "Lucky Shrub"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "URL", "text": "Track", "url": "https://shop.example/track/{{1}}"},
            {"type": "QUICK_REPLY", "text": "Stop promotions"},
            {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550783881"},
        ],
    },
]


def text(value: str, name: str | None = None) -> dict[str, Any]:
    parameter: dict[str, Any] = {"type": "text", "text": value}
    if name:
        parameter["parameter_name"] = name
    return parameter


def body(*values: str) -> dict[str, Any]:
    return {"type": "body", "parameters": [text(v) for v in values]}


def url_button(suffix: str, index: int = 0) -> dict[str, Any]:
    return {"type": "button", "sub_type": "url", "index": str(index), "parameters": [text(suffix)]}


def order_send(**overrides: Any) -> list[dict[str, Any]]:
    parts = {
        "header": {"type": "header", "parameters": [text("#42")]},
        "body": body("Alice", "#42", "Monday"),
        "button": url_button("42"),
    }
    parts.update(overrides)
    return [part for part in parts.values() if part is not None]


def refused(components: list[dict[str, Any]], send: Any, *words: str, **kwargs: Any) -> str:
    with pytest.raises(InvalidInput) as error:
        check_template_parameters(components, send, **kwargs)
    for word in words:
        assert word.lower() in error.value.message.lower(), error.value.message
    return error.value.message


# --- a send's parameters ---------------------------------------------------------------------------------


def test_a_matching_send_renders_every_part() -> None:
    rendered = render_template(ORDER, order_send())
    assert rendered == {
        "header": "Order #42",
        "body": "Hi Alice, your order #42 ships on Monday.",
        "footer": "Lucky Shrub",
        "buttons": "Track (https://shop.example/track/42)\nStop promotions\nCall us",
    }


def test_too_few_body_parameters_says_how_many_the_template_takes() -> None:
    message = refused(ORDER, order_send(body=body("Alice")), "body takes 3 parameters", "1 was given")
    assert "{{1}}, {{2}}, {{3}}" in message


def test_too_many_body_parameters() -> None:
    refused(ORDER, order_send(body=body("a", "b", "c", "d")), "takes 3", "4 were given")


def test_a_missing_body_component_when_the_body_has_placeholders() -> None:
    refused(ORDER, order_send(body=None), "body takes 3", "0 were given")


def test_body_parameters_for_a_template_without_placeholders() -> None:
    plain = [{"type": "BODY", "text": "Thanks for your order!"}]
    refused(plain, [body("extra")], "takes 0 parameters")
    assert render_template(plain, []) == {"body": "Thanks for your order!"}
    assert render_template(plain, None) == {"body": "Thanks for your order!"}


def test_header_text_parameter_count() -> None:
    refused(ORDER, order_send(header=None), "header takes 1 parameter")
    two = {"type": "header", "parameters": [text("a"), text("b")]}
    refused(ORDER, order_send(header=two), "header takes 1 parameter", "2 were given")


def test_a_header_for_a_template_without_one() -> None:
    refused(
        [{"type": "BODY", "text": "Hi"}],
        [{"type": "header", "parameters": [text("x")]}],
        "no header",
    )


@pytest.mark.parametrize("kind", ["image", "video", "document"])
def test_a_media_header_needs_one_parameter_of_its_kind(kind: str) -> None:
    template = [{"type": "HEADER", "format": kind.upper()}, {"type": "BODY", "text": "New arrivals"}]
    good = [{"type": "header", "parameters": [{"type": kind, kind: {"link": "https://cdn.example/x"}}]}]
    assert render_template(template, good)["header"] == f"[{kind}: https://cdn.example/x]"
    by_id = [{"type": "header", "parameters": [{"type": kind, kind: {"id": "1234"}}]}]
    assert render_template(template, by_id)["header"] == f"[{kind}: 1234]"
    refused(template, [], f"header is a {kind}")
    wrong = "video" if kind != "video" else "image"
    refused(
        template,
        [{"type": "header", "parameters": [{"type": wrong, wrong: {"link": "https://x"}}]}],
        f"header is a {kind}",
        repr(wrong),
    )
    refused(template, [{"type": "header", "parameters": [{"type": kind, kind: {}}]}], "'id' or 'link'")


def test_a_location_header() -> None:
    template = [{"type": "HEADER", "format": "LOCATION"}, {"type": "BODY", "text": "Find us here"}]
    place = {"latitude": 37.48, "longitude": -122.14, "name": "Lucky Shrub"}
    sent = [{"type": "header", "parameters": [{"type": "location", "location": place}]}]
    assert render_template(template, sent)["header"] == "[location: Lucky Shrub]"
    refused(
        template,
        [{"type": "header", "parameters": [{"type": "location", "location": {"latitude": 1}}]}],
        "latitude",
    )
    refused(template, [{"type": "header", "parameters": [text("x")]}], "header is a location")


def test_url_button_suffix_is_required_and_must_look_like_a_url_part() -> None:
    refused(ORDER, order_send(button=None), "button 0", "needs")
    refused(ORDER, order_send(button=url_button("has space")), "spaces")
    refused(ORDER, order_send(button={**url_button("42"), "sub_type": "quick_reply"}), "sub_type 'url'")
    refused(ORDER, order_send(button=url_button("42", index=7)), "no button 7")


def test_a_fixed_url_button_takes_no_suffix() -> None:
    template: list[dict[str, Any]] = [
        {"type": "BODY", "text": "See the shop"},
        {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Shop", "url": "https://shop.example"}]},
    ]
    assert render_template(template, [])["buttons"] == "Shop (https://shop.example)"
    refused(template, [url_button("x")], "fixed", "no suffix")


def test_quick_reply_payload_and_phone_buttons() -> None:
    payload = {
        "type": "button",
        "sub_type": "quick_reply",
        "index": 1,
        "parameters": [{"type": "payload", "payload": "STOP"}],
    }
    check_template_parameters(ORDER, [*order_send(), payload])
    refused(ORDER, [*order_send(), {**payload, "parameters": [text("STOP")]}], "'payload'")
    phone = {"type": "button", "sub_type": "url", "index": "2", "parameters": [text("x")]}
    refused(ORDER, [*order_send(), phone], "takes no parameters")


def test_copy_code_button() -> None:
    template: list[dict[str, Any]] = [
        {"type": "BODY", "text": "Your code"},
        {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "SAVE10"}]},
    ]
    code = {
        "type": "button",
        "sub_type": "copy_code",
        "index": "0",
        "parameters": [{"type": "coupon_code", "coupon_code": "SAVE10"}],
    }
    assert "SAVE10" in render_template(template, [code])["buttons"]
    refused(template, [], "needs")
    too_long = {**code, "parameters": [{"type": "coupon_code", "coupon_code": "X" * 16}]}
    refused(template, [too_long], "at most 15")


def test_named_parameters_need_their_names() -> None:
    template = [{"type": "BODY", "text": "Hi {{first_name}}, order {{order_id}} is ready."}]
    sent = [{"type": "body", "parameters": [text("#7", "order_id"), text("Ann", "first_name")]}]
    assert render_template(template, sent, parameter_format="NAMED") == {"body": "Hi Ann, order #7 is ready."}
    # Inferred from the placeholders when the format is not stored.
    assert render_template(template, sent)["body"] == "Hi Ann, order #7 is ready."
    refused(template, [body("Ann", "#7")], "parameter_name")
    unknown = [{"type": "body", "parameters": [text("Ann", "first_name"), text("x", "nope")]}]
    refused(template, unknown, "no parameter 'nope'")
    twice = [{"type": "body", "parameters": [text("Ann", "first_name"), text("Bo", "first_name")]}]
    refused(template, twice, "given twice")


def test_positional_parameters_refuse_names() -> None:
    sent = order_send(body={"type": "body", "parameters": [text("a", "x"), text("b"), text("c")]})
    refused(ORDER, sent, "positional", "drop 'parameter_name'")


def test_parameter_text_rules_meta_enforces() -> None:
    for bad in ("two\nlines", "tab\there", "five     spaces"):
        refused(ORDER, order_send(body=body(bad, "#42", "Monday")), "new lines, tabs")
    refused(ORDER, order_send(body=body("", "#42", "Monday")), "non-empty")
    refused(ORDER, order_send(body=body("x" * 1100, "#42", "Monday")), "1024")


def test_currency_and_date_time_parameters() -> None:
    template = [{"type": "BODY", "text": "You owe {{1}} by {{2}}."}]
    sent = [
        {
            "type": "body",
            "parameters": [
                {
                    "type": "currency",
                    "currency": {"fallback_value": "$10.00", "code": "USD", "amount_1000": 10000},
                },
                {"type": "date_time", "date_time": {"fallback_value": "May 1"}},
            ],
        }
    ]
    assert render_template(template, sent) == {"body": "You owe $10.00 by May 1."}
    no_amount = [
        {
            "type": "body",
            "parameters": [
                {"type": "currency", "currency": {"fallback_value": "$1", "code": "USD"}},
                {"type": "date_time", "date_time": {"fallback_value": "May 1"}},
            ],
        }
    ]
    refused(template, no_amount, "amount_1000")
    refused(template, [{"type": "body", "parameters": [{"type": "image"}, text("x")]}], "text, currency")


@pytest.mark.parametrize(
    ("send", "words"),
    [
        ("not a list", ("list of objects",)),
        ([1, 2], ("list of objects",)),
        ([{"type": "footer", "parameters": []}], ("unknown template component",)),
        ([body("a"), body("b")], ("given twice",)),
        ([{"type": "button", "sub_type": "url"}], ("index",)),
        ([{"type": "button", "sub_type": "url", "index": "x"}], ("index",)),
        ([url_button("1"), url_button("2")], ("button 0 is given twice",)),
        ([{"type": "body", "parameters": "Alice"}], ("list of objects",)),
    ],
)
def test_malformed_send_components(send: Any, words: tuple[str, ...]) -> None:
    refused(ORDER, send, *words)


def test_carousel_and_offer_components_pass_through() -> None:
    check_template_parameters(ORDER, [*order_send(), {"type": "carousel", "cards": []}])


def test_placeholders_repeat_and_are_counted_once() -> None:
    template = [{"type": "BODY", "text": "{{1}} and {{1}} again, then {{2}}"}]
    assert variables(template[0]["text"]) == ["1", "2"]
    assert render_template(template, [body("A", "B")]) == {"body": "A and A again, then B"}


@settings(max_examples=60, deadline=None)
@given(wanted=st.integers(min_value=0, max_value=12), given_count=st.integers(min_value=0, max_value=12))
def test_any_placeholder_count_is_accepted_only_with_as_many_values(wanted: int, given_count: int) -> None:
    text_ = "Start " + " and ".join(f"{{{{{n}}}}}" for n in range(1, wanted + 1)) + " end"
    template = [{"type": "BODY", "text": text_}]
    values = [f"v{n}" for n in range(1, given_count + 1)]
    send = [body(*values)] if values else []
    if wanted == given_count:
        rendered = render_template(template, send)["body"]
        assert "{{" not in rendered
        assert all(v in rendered for v in values)
    else:
        refused(template, send, f"takes {wanted} parameter")


@settings(max_examples=40, deadline=None)
@given(order=st.permutations(list(range(1, 8))))
def test_positional_values_fill_by_number_whatever_the_order_in_the_text(order: list[int]) -> None:
    text_ = " ".join(f"<{{{{{n}}}}}>" for n in order)
    values = [f"v{n}" for n in range(1, 8)]
    rendered = render_template([{"type": "BODY", "text": text_}], [body(*values)])["body"]
    assert rendered == " ".join(f"<v{n}>" for n in order)


# --- new templates -----------------------------------------------------------------------------------------


def draft(**overrides: Any) -> TemplateDraft:
    fields: dict[str, Any] = {
        "name": "order_update",
        "language": "en_US",
        "category": "utility",
        "components": [
            {"type": "body", "text": "Hi {{1}}, order {{2}} ships.", "example": {"body_text": [["Al", "#1"]]}}
        ],
    }
    fields.update(overrides)
    return validate_draft(**fields)


def test_a_valid_draft_is_normalised() -> None:
    valid = draft()
    assert valid.category == "UTILITY" and valid.parameter_format == "POSITIONAL"
    assert valid.components[0]["type"] == "BODY"
    assert "parameter_format" not in valid.as_meta_request()


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"name": "Order Update"}, ("lowercase letters",)),
        ({"name": "order-update"}, ("lowercase letters",)),
        ({"name": "a" * 513}, ("512",)),
        ({"language": "english"}, ("language code",)),
        ({"category": "PROMO"}, ("category must be one of",)),
        ({"components": []}, ("BODY",)),
        ({"components": [{"type": "FOOTER", "text": "x"}]}, ("BODY",)),
        ({"components": [{"type": "BODY"}]}, ("needs its 'text'",)),
        ({"components": [{"type": "BODY", "text": "x" * 1025}]}, ("1024",)),
        ({"components": [{"type": "SIDEBAR"}]}, ("type must be one of",)),
        (
            {"components": [{"type": "BODY", "text": "a"}, {"type": "body", "text": "b"}]},
            ("at most one BODY",),
        ),
        (
            {
                "components": [
                    {"type": "BODY", "text": "Hi {{1}} {{3}}", "example": {"body_text": [["a", "b"]]}}
                ]
            },
            ("without gaps",),
        ),
        (
            {"components": [{"type": "BODY", "text": "Hi {{2}}", "example": {"body_text": [["a"]]}}]},
            ("without gaps",),
        ),
        ({"components": [{"type": "BODY", "text": "Hi {{1}} and {{2}}"}]}, ("example values",)),
        (
            {
                "components": [
                    {"type": "BODY", "text": "Hi {{1}} and {{2}}", "example": {"body_text": [["a"]]}}
                ]
            },
            ("example values",),
        ),
        (
            {
                "components": [
                    {"type": "BODY", "text": "Hi {{1}}{{2}}", "example": {"body_text": [["a", "b"]]}}
                ]
            },
            ("side by side",),
        ),
        ({"components": [{"type": "BODY", "text": "Hi {{1}} {{name}}"}]}, ("mixes",)),
        ({"components": [{"type": "BODY", "text": "Hi {{First Name}}"}]}, ("placeholder",)),
        (
            {"components": [{"type": "BODY", "text": "Hi {{name}}"}], "parameter_format": "POSITIONAL"},
            ("set parameter_format to NAMED",),
        ),
        (
            {"components": [{"type": "BODY", "text": "Hi {{1}}"}], "parameter_format": "NAMED"},
            ("numbered placeholders",),
        ),
        ({"parameter_format": "KEYWORD"}, ("POSITIONAL or NAMED",)),
    ],
)
def test_drafts_breaking_metas_rules_are_refused(overrides: dict[str, Any], words: tuple[str, ...]) -> None:
    with pytest.raises(InvalidInput) as error:
        draft(**overrides)
    for word in words:
        assert word.lower() in error.value.message.lower(), error.value.message


def test_named_drafts_need_named_examples() -> None:
    named_body = {"type": "BODY", "text": "Hi {{first_name}}!"}
    with pytest.raises(InvalidInput, match="body_text_named_params"):
        draft(components=[named_body])
    valid = draft(
        components=[
            {
                **named_body,
                "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Jo"}]},
            }
        ]
    )
    assert valid.parameter_format == "NAMED"
    assert valid.as_meta_request()["parameter_format"] == "NAMED"


def test_header_footer_and_button_rules() -> None:
    body_ok = {"type": "BODY", "text": "Hello"}
    with pytest.raises(InvalidInput, match="at most one placeholder"):
        draft(
            components=[
                {
                    "type": "HEADER",
                    "format": "TEXT",
                    "text": "{{1}} {{2}}",
                    "example": {"header_text": ["a", "b"]},
                },
                body_ok,
            ]
        )
    with pytest.raises(InvalidInput, match="header_text"):
        draft(components=[{"type": "HEADER", "format": "TEXT", "text": "Hi {{1}}"}, body_ok])
    with pytest.raises(InvalidInput, match="header_handle"):
        draft(components=[{"type": "HEADER", "format": "IMAGE"}, body_ok])
    with pytest.raises(InvalidInput, match="format must be one of"):
        draft(components=[{"type": "HEADER", "format": "GIF"}, body_ok])
    with pytest.raises(InvalidInput, match="footer may not have placeholders"):
        draft(components=[body_ok, {"type": "FOOTER", "text": "Bye {{1}}"}])
    with pytest.raises(InvalidInput, match="its end"):
        draft(
            components=[
                body_ok,
                {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Go", "url": "https://x/{{1}}/y"}]},
            ]
        )
    with pytest.raises(InvalidInput, match="example"):
        draft(
            components=[
                body_ok,
                {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Go", "url": "https://x/{{1}}"}]},
            ]
        )
    with pytest.raises(InvalidInput, match="at most 10"):
        draft(
            components=[body_ok, {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "x"}] * 11}]
        )
    with pytest.raises(InvalidInput, match="25"):
        draft(
            components=[body_ok, {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "x" * 26}]}]
        )
    complete = draft(
        components=[
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1hZ2U="]}},
            body_ok,
            {"type": "FOOTER", "text": "Lucky Shrub"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "URL", "text": "Track", "url": "https://x/{{1}}", "example": ["https://x/42"]},
                    {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550783881"},
                ],
            },
        ]
    )
    assert [c["type"] for c in complete.components] == ["HEADER", "BODY", "FOOTER", "BUTTONS"]


def test_an_authentication_template_gets_its_body_text_from_meta() -> None:
    auth = draft(
        category="AUTHENTICATION",
        components=[
            {"type": "BODY", "add_security_recommendation": True},
            {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
        ],
    )
    assert auth.category == "AUTHENTICATION"


@settings(max_examples=40, deadline=None)
@given(count=st.integers(min_value=1, max_value=15))
def test_consecutive_placeholders_with_examples_are_accepted(count: int) -> None:
    text_ = "Hi " + ", ".join(f"{{{{{n}}}}}" for n in range(1, count + 1)) + "."
    example = {"body_text": [[f"v{n}" for n in range(1, count + 1)]]}
    assert (
        draft(components=[{"type": "BODY", "text": text_, "example": example}]).parameter_format
        == "POSITIONAL"
    )
    gap = text_.replace(f"{{{{{count}}}}}", f"{{{{{count + 1}}}}}")
    with pytest.raises(InvalidInput, match="without gaps"):
        draft(components=[{"type": "BODY", "text": gap, "example": example}])


# --- use cases on fakes ------------------------------------------------------------------------------------


TENANT = uuid4()


def principal() -> Principal:
    return Principal(
        user_id=uuid4(),
        username="ann",
        tenant_id=TENANT,
        tenant_slug="acme",
        tenant_name="Acme",
        role=Role.ADMIN,
    )


def seeded(factory: FakeUnitOfWorkFactory, **template: Any) -> Channel:
    channel = Channel(tenant_id=TENANT, phone_number_id="1122334455667", access_token="t", waba_id="555")
    factory.put_record("channels", channel)
    if template:
        factory.put_record("templates", MessageTemplate(tenant_id=TENANT, channel_id=channel.id, **template))
    return channel


class RecordingGateway:
    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def send(self, channel: Channel, message: OutgoingMessage) -> str:
        self.sent.append(message)
        return f"wamid.{len(self.sent)}"

    async def mark_read(self, channel: Channel, wamid: str) -> None: ...

    async def prepare(self, channel: Channel) -> None:
        return None

    async def upload_media(self, channel: Channel, data: bytes, mime_type: str, filename: str) -> str:
        return "media"

    async def register_webhook(self, channel: Channel, **_: Any) -> None: ...

    async def close(self) -> None: ...


def template_send(components: list[dict[str, Any]], name: str = "order_update") -> SendRequest:
    return SendRequest(
        to="15551234567",
        type="template",
        payload={"name": name, "language": {"code": "en_US"}, "components": components},
    )


async def test_send_checks_a_stored_template_before_meta_is_called() -> None:
    factory = FakeUnitOfWorkFactory()
    seeded(factory, name="order_update", language="en_US", status="APPROVED", components=ORDER)
    gateway = RecordingGateway()
    send = SendMessage(factory, gateway)  # type: ignore[arg-type]

    with pytest.raises(InvalidInput, match="body takes 3 parameters"):
        await send.execute(principal(), template_send(order_send(body=body("Alice"))))
    assert gateway.sent == [] and factory.committed("messages") == []

    outcome = await send.execute(principal(), template_send(order_send()))
    assert outcome.delivered_to_meta and len(gateway.sent) == 1


@pytest.mark.parametrize("status", ["PENDING", "REJECTED", "PAUSED", "DELETED"])
async def test_send_refuses_a_template_that_is_not_approved(status: str) -> None:
    factory = FakeUnitOfWorkFactory()
    seeded(factory, name="order_update", language="en_US", status=status, components=ORDER)
    gateway = RecordingGateway()
    with pytest.raises(TemplateNotSendable, match=f"is {status}") as error:
        await SendMessage(factory, gateway).execute(principal(), template_send(order_send()))  # type: ignore[arg-type]
    assert isinstance(error.value, Conflict)
    assert gateway.sent == []


async def test_send_passes_an_unknown_template_through_to_meta() -> None:
    factory = FakeUnitOfWorkFactory()
    seeded(factory, name="order_update", language="en_US", status="APPROVED", components=ORDER)
    gateway = RecordingGateway()
    send = SendMessage(factory, gateway)  # type: ignore[arg-type]
    await send.execute(principal(), template_send([body("anything")], name="made_in_business_manager"))
    assert len(gateway.sent) == 1


class PagedMeta:
    """Meta's template list, `page_size` at a time with an `after` cursor."""

    def __init__(self, templates: list[RemoteTemplate]) -> None:
        self.templates = templates
        self.calls: list[str | None] = []

    async def page(self, channel: Channel, *, after: str | None, limit: int) -> RemotePage:
        self.calls.append(after)
        start = int(after) if after else 0
        chunk = self.templates[start : start + limit]
        more = start + limit < len(self.templates)
        return RemotePage(templates=chunk, after=str(start + limit) if more else None)

    async def submit(self, channel: Channel, draft: TemplateDraft) -> SubmittedTemplate:
        raise NotImplementedError

    async def delete(self, channel: Channel, *, name: str, meta_template_id: str | None) -> None:
        raise NotImplementedError

    async def migrate(self, channel: Channel, *, source_waba_id: str, page_number: int) -> MigratedPage:
        raise NotImplementedError


def remote(n: int, status: str = "APPROVED") -> RemoteTemplate:
    return RemoteTemplate(
        meta_template_id=str(1000 + n),
        name=f"t_{n:03d}",
        language="en_US",
        status=status,
        category="MARKETING",
        components=[{"type": "BODY", "text": f"Template {n}"}],
    )


async def test_sync_reads_every_page_and_counts_created_updated_removed() -> None:
    factory = FakeUnitOfWorkFactory()
    channel = seeded(factory, name="t_000", language="en_US", status="PENDING", meta_template_id="1000")
    factory.put_record(
        "templates", MessageTemplate(tenant_id=TENANT, channel_id=channel.id, name="gone", language="en_US")
    )
    meta = PagedMeta([remote(n) for n in range(57)])
    pages: list[tuple[int, int]] = []
    report = await SyncTemplates(factory, meta, page_size=10).execute(
        TENANT, progress=lambda page, read: pages.append((page, read))
    )
    assert (report.created, report.updated, report.unchanged, report.removed) == (56, 1, 0, 1)
    assert report.at_meta == 57 and report.pages == 6 and len(meta.calls) == 6
    assert pages[-1] == (6, 57)
    stored = {t.name: t for t in factory.committed("templates")}
    assert len(stored) == 58
    assert stored["t_000"].status == "APPROVED" and stored["gone"].status == "DELETED"
    assert all(t.synced_at is not None for name, t in stored.items() if name != "gone")

    again = await SyncTemplates(factory, meta, page_size=10).execute(TENANT)
    assert (again.created, again.updated, again.unchanged, again.removed) == (0, 0, 57, 0)
