"""The chat's bubbles and previews for flow, commerce and location-request messages: a flow's completion
with its answers, an order with its lines and total (from Meta's own sample webhooks, parsed as the app
parses them), and what an agent sent as a flow, product, products, catalog or location request message.
Shapes Meta should not send but might (or an old row holds) are shown as far as they go, never an error.
Then the composer's side: the send requests its interactive modes build, and the reasons it refuses."""

from __future__ import annotations

import json
from copy import deepcopy
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from jinja2 import Environment, FileSystemLoader

from pywhatsapp.application.inbox.read_models import ThreadMessage
from pywhatsapp.application.messaging.send_message import SendRequest
from pywhatsapp.domain.errors import DomainError, InvalidInput, NotFound
from pywhatsapp.domain.flows.flow import PUBLISHED, Flow
from pywhatsapp.domain.messaging.message import Direction, Message, MessageStatus
from pywhatsapp.domain.webhooks.meta_payload import parse_webhook_body
from pywhatsapp.domain.webhooks.updates import InboundMessage
from pywhatsapp.entrypoints.http.pages import chat as chat_page
from pywhatsapp.entrypoints.http.pages import chat_view
from pywhatsapp.entrypoints.http.pages.chat_view import (
    MAX_FIELDS,
    MAX_VALUE,
    bubble,
    bubbles,
    card_of,
    flow_of_token,
    mentions_flows,
    preview,
)

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "meta-webhooks"
TEMPLATES = Path(chat_view.__file__).resolve().parents[1] / "templates"
TENANT = uuid4()


def sample_message(relative: str) -> dict[str, Any]:
    body = json.loads((SAMPLES / relative).read_text())
    message: dict[str, Any] = body["entry"][0]["changes"][0]["value"]["messages"][0]
    return message


def inbound(message: dict[str, Any]) -> Message:
    """A customer's message as the app stores it from a webhook carrying `message`."""
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1234567890987654321",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550001111",
                                "phone_number_id": "1122334455667",
                            },
                            "contacts": [{"profile": {"name": "Ann"}, "wa_id": "972987654321"}],
                            "messages": [message],
                        },
                    }
                ],
            }
        ],
    }
    (update,) = parse_webhook_body(body)
    assert isinstance(update, InboundMessage)
    return Message(
        tenant_id=TENANT,
        direction=Direction.INCOMING,
        type=update.type,
        wa_id=update.wa_id,
        wamid=update.wamid,
        status=MessageStatus.DELIVERED,
        text=update.text,
        content=update.content,
        context_wamid=update.context_wamid,
    )


def outbound(interactive: dict[str, Any], text: str | None = None) -> Message:
    """What SendMessage stores for an interactive message an agent sent."""
    return Message(
        tenant_id=TENANT,
        direction=Direction.OUTGOING,
        type="interactive",
        wa_id="972987654321",
        wamid=f"wamid.out-{uuid4().hex}",
        status=MessageStatus.SENT,
        text=text,
        content={"interactive": interactive},
    )


def shown(message: Message, flow_names: dict[str, str] | None = None) -> chat_view.Bubble:
    return bubble(ThreadMessage(message=message), {}, flow_names)


def flow_completion(response_json: Any, **reply: Any) -> dict[str, Any]:
    message = sample_message("flow_completion/completion.json")
    message["interactive"]["nfm_reply"]["response_json"] = response_json
    message["interactive"]["nfm_reply"].update(reply)
    return message


# --- a flow's completion -------------------------------------------------------------------------------


def test_a_flow_completion_from_metas_sample_shows_its_answers_without_the_token() -> None:
    message = inbound(sample_message("flow_completion/completion.json"))
    assert message.text == "Sent"  # what the list showed before: Meta's body

    shown_bubble = shown(message)
    card = shown_bubble.card
    assert card is not None and card.kind == "flow_reply" and card.label == "Flow reply"
    assert card.detail == "Sent"
    assert card.fields == [
        ("comment_text", "Comment Text"),
        ("delivery_rating", "4"),
        ("purchase_rating", "2"),
        ("recommend_radio", "0"),
        ("cs_rating", "0"),
    ]
    assert shown_bubble.text is None  # the body is in the card, not repeated
    assert shown_bubble.incoming and shown_bubble.type == "interactive"
    assert preview(message) == "[flow reply]"


def test_a_completion_whose_token_names_one_of_our_flows_shows_the_flows_name() -> None:
    flow_id = str(uuid4())
    answers = {"flow_token": f"{flow_id}.abc", "name": "Ann"}
    message = inbound(flow_completion(json.dumps(answers)))
    card = shown(message, {flow_id: "Sign up"}).card
    assert card is not None and card.detail == "Sign up · Sent" and card.fields == [("name", "Ann")]
    assert card_of(message, {flow_id: "Sign up"}) == card
    assert shown(message).card.detail == "Sent"  # type: ignore[union-attr]  # no names given


def test_a_completion_without_a_token_and_with_a_named_reply_shows_that_name() -> None:
    message = inbound(sample_message("flow_completion/without_flow_token.json"))
    card = shown(message).card
    assert card is not None and "flow_token" not in dict(card.fields) and card.fields
    named = inbound(flow_completion(json.dumps({"a": 1}), name="Booking", body="Booked"))
    assert shown(named).card.detail == "Booking · Booked"  # type: ignore[union-attr]


def test_answers_are_read_from_metas_string_when_the_stored_parse_is_missing() -> None:
    message = inbound(flow_completion(json.dumps({"size": "M", "extras": ["milk", "sugar"]})))
    content = {k: v for k, v in message.content.items() if k not in ("flow_response", "flow_token")}
    old_row = Message(**{**message.__dict__, "content": content})
    card = shown(old_row).card
    assert card is not None and card.fields == [("size", "M"), ("extras", "milk, sugar")]


def test_answers_keep_the_flows_order_though_the_stored_parse_comes_back_sorted() -> None:
    message = inbound(flow_completion(json.dumps({"time": "20:30", "party_size": "4"})))
    content = {**message.content, "flow_response": {"party_size": "4", "time": "20:30"}}  # as JSONB has it
    assert shown(Message(**{**message.__dict__, "content": content})).card.fields == [  # type: ignore[union-attr]
        ("time", "20:30"),
        ("party_size", "4"),
    ]
    huge = {**content, "nfm_reply": {"response_json": "{}" + " " * (70 * 1024)}}
    assert shown(Message(**{**message.__dict__, "content": huge})).card.fields == [  # type: ignore[union-attr]
        ("party_size", "4"),
        ("time", "20:30"),
    ]


@pytest.mark.parametrize(
    "response_json",
    ["{not json", "[1, 2]", '"just a string"', "null", "[" * 100_000, '{"a": 1}' + " " * (70 * 1024)],
)
def test_answers_that_are_not_a_json_object_are_said_to_be_unreadable(response_json: str) -> None:
    # As a row holds it without the parse the webhook adds (older rows; a body too deep for the parser).
    message = Message(
        tenant_id=TENANT,
        direction=Direction.INCOMING,
        type="interactive",
        wa_id="972987654321",
        text="Sent",
        content={
            "type": "nfm_reply",
            "nfm_reply": {"response_json": response_json, "body": "Sent", "name": "flow"},
        },
    )
    card = shown(message).card
    assert card is not None and card.label == "Flow reply" and card.detail == "Sent"
    assert card.fields == [("answers", "could not be read")]
    assert preview(message) == "[flow reply]"


def test_a_completion_parsed_at_the_webhook_as_unreadable_says_so() -> None:
    message = inbound(flow_completion("{not json"))
    assert message.content["flow_response"] is None
    assert shown(message).card.fields == [("answers", "could not be read")]  # type: ignore[union-attr]


@pytest.mark.parametrize("reply", [None, "a string", 42, {"no": "response_json"}])
def test_a_completion_without_its_reply_object_still_shows_as_a_flow_reply(reply: Any) -> None:
    message = Message(
        tenant_id=TENANT,
        direction=Direction.INCOMING,
        type="interactive",
        wa_id="972987654321",
        content={"type": "nfm_reply", "nfm_reply": reply},
    )
    card = shown(message).card
    assert card is not None and card.kind == "flow_reply" and card.fields == [] and card.detail is None
    assert preview(message) == "[flow reply]"


def test_many_long_or_nested_answers_are_capped() -> None:
    answers: dict[str, Any] = {f"question_{n}": f"answer {n}" for n in range(MAX_FIELDS + 5)}
    answers["question_0"] = "x" * 5000
    answers["question_1"] = {"nested": {"deep": [1, 2, {"three": True}]}}
    answers["question_2"] = True
    answers["question_3"] = None
    answers["k" * 500] = "long key"
    message = inbound(flow_completion(json.dumps(answers)))
    card = shown(message).card
    assert card is not None
    assert len(card.fields) == MAX_FIELDS and card.more == len(answers) - MAX_FIELDS
    values = dict(card.fields)
    assert len(values["question_0"]) == MAX_VALUE and values["question_0"].endswith("…")
    assert values["question_1"] == '{"nested":{"deep":[1,2,{"three":true}]}}'
    assert values["question_2"] == "yes" and values["question_3"] == "—"


# --- an order ---------------------------------------------------------------------------------------------


def test_an_order_from_metas_sample_shows_its_lines_catalog_and_total() -> None:
    message = inbound(sample_message("message/order.json"))
    shown_bubble = shown(message)
    card = shown_bubble.card
    assert card is not None and card.kind == "order" and card.label == "Order"
    assert card.detail == "catalog 354160437058781"
    assert [
        (line.product_retailer_id, line.quantity, line.item_price, line.currency) for line in card.lines
    ] == [
        ("HAMBURGER", 3, "30.00", "ILS"),
        ("FRENCH_FRIES", 2, "35.00", "ILS"),
        ("SODA", 2, "10.00", "ILS"),
    ]
    assert card.total == "180.00 ILS" and card.more == 0
    assert shown_bubble.text is None  # the sample's note is empty; message.text holds our summary
    assert preview(message) == "[order] 7 items · 180.00 ILS"


def test_an_orders_note_is_the_bubbles_text_and_prices_given_as_strings_are_read() -> None:
    message = sample_message("message/order.json")
    message["order"]["text"] = "Please ring twice"
    message["order"]["product_items"] = [
        {"product_retailer_id": "CAKE", "quantity": "1", "item_price": "12.5", "currency": "EUR"},
        {"product_retailer_id": "TEA", "quantity": 2, "item_price": 3, "currency": "USD"},
    ]
    shown_bubble = shown(inbound(message))
    card = shown_bubble.card
    assert shown_bubble.text == "Please ring twice"
    assert card is not None and [line.item_price for line in card.lines] == ["12.50", "3.00"]
    assert card.total == "12.50 EUR + 6.00 USD"
    assert preview(inbound(message)) == "[order] 3 items · 12.50 EUR + 6.00 USD"


@pytest.mark.parametrize(
    "order",
    [
        {},
        {"product_items": "HAMBURGER"},
        {"product_items": [None, 3, "x", {"quantity": "many", "item_price": "free", "currency": 5}]},
        {
            "catalog_id": 12345,
            "product_items": [{"product_retailer_id": "A", "item_price": [], "quantity": -1}],
        },
        {"product_items": [{"product_retailer_id": "B", "quantity": 1, "item_price": "1e999999999"}]},
    ],
)
def test_an_order_in_an_unexpected_shape_shows_what_it_can(order: dict[str, Any]) -> None:
    message = inbound(
        {
            "from": "972987654321",
            "id": f"wamid.{uuid4().hex}",
            "timestamp": "1697044668",
            "type": "order",
            "order": order,
        }
    )
    card = shown(message).card
    assert card is not None and card.kind == "order"
    for line in card.lines:
        assert isinstance(line.quantity, int) and line.quantity >= 0
        assert isinstance(line.item_price, str) and len(line.item_price) <= 20
    assert preview(message).startswith("[order] ")


def test_a_long_order_lists_its_first_lines_and_counts_the_rest() -> None:
    message = sample_message("message/order.json")
    message["order"]["product_items"] = [
        {"product_retailer_id": f"SKU{n}", "quantity": 1, "item_price": 1, "currency": "USD"}
        for n in range(45)
    ]
    card = shown(inbound(message)).card
    assert card is not None and len(card.lines) == MAX_FIELDS and card.more == 45 - MAX_FIELDS
    assert card.total == "45.00 USD"  # the total counts every line


# --- what an agent sent -----------------------------------------------------------------------------------

CATALOG = "354160437058781"


@pytest.mark.parametrize(
    ("interactive", "label", "detail", "fields", "list_preview"),
    [
        (
            {
                "type": "product",
                "body": {"text": "Our best seller"},
                "footer": {"text": "Free delivery"},
                "action": {"catalog_id": CATALOG, "product_retailer_id": "HAMBURGER"},
            },
            "Product HAMBURGER",
            f"catalog {CATALOG}",
            [("footer", "Free delivery")],
            "[product] HAMBURGER",
        ),
        (
            {
                "type": "product_list",
                "header": {"type": "text", "text": "Tonight's menu"},
                "body": {"text": "Pick what you like"},
                "action": {
                    "catalog_id": CATALOG,
                    "sections": [
                        {"title": "Mains", "product_items": [{"product_retailer_id": "HAMBURGER"}]},
                        {
                            "title": "Sides",
                            "product_items": [
                                {"product_retailer_id": "FRENCH_FRIES"},
                                {"product_retailer_id": "SODA"},
                            ],
                        },
                    ],
                },
            },
            "Products: Tonight's menu",
            f"catalog {CATALOG}",
            [("Mains", "HAMBURGER"), ("Sides", "FRENCH_FRIES, SODA")],
            "[products] Tonight's menu",
        ),
        (
            {
                "type": "catalog_message",
                "body": {"text": "Browse our catalog"},
                "action": {
                    "name": "catalog_message",
                    "parameters": {"thumbnail_product_retailer_id": "HAMBURGER"},
                },
            },
            "Catalog",
            "thumbnail HAMBURGER",
            [],
            "[catalog]",
        ),
        (
            {
                "type": "location_request_message",
                "body": {"text": "Where should we deliver?"},
                "action": {"name": "send_location"},
            },
            "Asked for location",
            None,
            [],
            "[asked for location]",
        ),
        (
            {
                "type": "flow",
                "body": {"text": "Sign up in a minute"},
                "action": {"name": "flow", "parameters": {"flow_id": "1234", "flow_cta": "Sign up"}},
            },
            "Flow: Sign up",
            None,
            [],
            "[flow] Sign up",
        ),
    ],
)
def test_what_an_agent_sent_shows_as_a_labelled_card_with_its_text(
    interactive: dict[str, Any], label: str, detail: str | None, fields: list[Any], list_preview: str
) -> None:
    message = outbound(interactive, text=interactive["body"]["text"])
    shown_bubble = shown(message)
    card = shown_bubble.card
    assert card is not None and card.label == label and card.detail == detail and card.fields == fields
    assert shown_bubble.text == interactive["body"]["text"] and not shown_bubble.incoming
    assert shown_bubble.ticks == "✓"
    assert preview(message) == list_preview


def test_a_flow_message_is_named_by_metas_flow_id_when_the_flow_is_known() -> None:
    message = outbound(
        {
            "type": "flow",
            "body": {"text": "Book a table"},
            "action": {"name": "flow", "parameters": {"flow_id": "998877", "flow_cta": "Book"}},
        }
    )
    assert shown(message, {"998877": "Table booking"}).card.detail == "Table booking"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "interactive",
    [
        {"type": "product"},
        {"type": "product", "action": "x"},
        {"type": "product_list", "header": "x", "action": {"sections": "x"}},
        {"type": "product_list", "action": {"sections": [None, {"product_items": "x"}, {"title": 5}]}},
        {"type": "catalog_message", "action": {"parameters": []}},
        {"type": "flow", "action": {"parameters": None}},
    ],
)
def test_a_broken_sent_object_shows_its_kind_without_an_error(interactive: dict[str, Any]) -> None:
    card = shown(outbound(interactive)).card
    assert card is not None and card.label


def test_other_messages_keep_their_old_rendering() -> None:
    buttons = outbound(
        {"type": "button", "body": {"text": "Pick one"}, "action": {"buttons": []}}, text="Pick one"
    )
    assert shown(buttons).card is None and preview(buttons) == "Pick one"
    for sample in ("callback_button/button.json", "callback_selection/callback.json"):
        reply = inbound(sample_message(sample))
        assert shown(reply).card is None and preview(reply) == reply.text
    text = inbound(
        {
            "from": "972987654321",
            "id": "wamid.t",
            "timestamp": "1697044668",
            "type": "text",
            "text": {"body": "Hi"},
        }
    )
    assert shown(text).card is None and preview(text) == "Hi"
    location = inbound(sample_message("message/current_location.json"))
    assert shown(location).card is None and shown(location).location is not None


def test_flow_names_are_looked_up_only_for_threads_with_flow_messages() -> None:
    order = ThreadMessage(message=inbound(sample_message("message/order.json")))
    completion = ThreadMessage(message=inbound(sample_message("flow_completion/completion.json")))
    sent_flow = ThreadMessage(
        message=outbound(
            {"type": "flow", "body": {"text": "x"}, "action": {"parameters": {"flow_cta": "Go"}}}
        )
    )
    assert not mentions_flows([order])
    assert mentions_flows([order, completion]) and mentions_flows([sent_flow])


# --- the thread's HTML ------------------------------------------------------------------------------------


def render_thread(items: list[ThreadMessage]) -> str:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    conversation = type("Row", (), {"id": uuid4(), "window_open": True})()
    return environment.get_template("chat/_thread.html").render(
        conversation=conversation, bubbles=bubbles(items), more=False, reactions=("👍",)
    )


def test_the_thread_shows_the_cards_and_escapes_what_customers_wrote() -> None:
    order = sample_message("message/order.json")
    order["order"]["text"] = "<script>alert(1)</script>"
    completion = flow_completion(json.dumps({"<b>key</b>": "<img src=x onerror=alert(1)>"}))
    html = render_thread(
        [
            ThreadMessage(
                message=outbound(
                    {
                        "type": "location_request_message",
                        "body": {"text": "Where?"},
                        "action": {"name": "send_location"},
                    },
                    text="Where?",
                )
            ),
            ThreadMessage(message=inbound(completion)),
            ThreadMessage(message=inbound(order)),
        ]
    )
    assert "<script>" not in html and "<img" not in html and "<b>key" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Asked for location" in html and "Flow reply" in html and "&lt;b&gt;key&lt;/b&gt;" in html
    assert '<td class="sku">HAMBURGER</td><td class="qty">3</td><td class="price">30.00 ILS</td>' in html
    assert '<td class="total">180.00 ILS</td>' in html
    assert "[interactive]" not in html and "[order]" not in html
    assert 'data-reply-text="Asked for location"' not in html  # the body text comes first
    assert 'data-reply-text="Flow reply"' in html


def test_the_sample_is_not_changed_by_rendering() -> None:
    message = sample_message("message/order.json")
    before = deepcopy(message)
    shown(inbound(message))
    assert message == before


# --- the composer's requests ------------------------------------------------------------------------------


class OneFlow:
    """ManageFlows as the composer uses it: `get` one flow of the tenant."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    async def get(self, principal: Any, flow_id: Any) -> Flow:
        if flow_id != self.flow.id:
            raise NotFound(f"No flow {flow_id} in this tenant")
        return self.flow


def booking_flow(**changes: Any) -> Flow:
    fields: dict[str, Any] = {
        "tenant_id": TENANT,
        "name": "Table booking",
        "meta_flow_id": "998877",
        "status": PUBLISHED,
        "flow_json": {"version": "7.1", "screens": [{"id": "BOOK"}, {"id": "DONE"}]},
        **changes,
    }
    return Flow(**fields)


async def flow_request(chosen: Flow, **form: str) -> SendRequest:
    fields = {"mode": "flow", "flow": str(chosen.id), "flow_cta": "Book", "flow_body": "Book a table", **form}
    summary: Any = type("Summary", (), {"contact": type("Contact", (), {"wa_id": "972987654321"})()})()
    manage_flows: Any = OneFlow(chosen)
    return await chat_page._send_request(fields, summary, None, None, None, manage_flows)  # type: ignore[arg-type]


async def test_a_flow_from_the_composer_opens_its_first_screen_with_a_token_naming_the_flow() -> None:
    flow = booking_flow()
    request = await flow_request(flow)
    assert request.to == "972987654321" and request.type == "interactive"
    payload: Any = request.payload
    parameters = payload["action"]["parameters"]
    assert parameters["flow_id"] == "998877" and parameters["flow_cta"] == "Book"
    assert parameters["flow_action_payload"] == {"screen": "BOOK"}
    assert parameters["flow_token"].startswith(f"{flow.id}.")
    assert flow_of_token(parameters["flow_token"]) == str(flow.id)

    given = await flow_request(flow, flow_screen="DONE", flow_data='{"when": "20:30"}', flow_token="mine")
    parameters = given.payload["action"]["parameters"]  # type: ignore[call-overload]
    assert parameters["flow_action_payload"] == {"screen": "DONE", "data": {"when": "20:30"}}
    assert parameters["flow_token"] == "mine"

    with_endpoint = booking_flow(data_api_version="3.0")
    asked = (await flow_request(with_endpoint)).payload["action"]["parameters"]  # type: ignore[call-overload]
    assert "flow_action_payload" not in asked  # Meta asks the data endpoint for the first screen


@pytest.mark.parametrize(
    ("flow", "form", "message"),
    [
        (booking_flow(status="DRAFT"), {}, "is not published"),
        (booking_flow(), {"flow": "not-a-flow"}, "Choose a published flow"),
        (booking_flow(), {"flow": str(uuid4())}, "No flow"),
        (booking_flow(), {"flow_cta": ""}, "button text"),
        (booking_flow(), {"flow_cta": "x" * 31}, "longer than 30"),
        (booking_flow(), {"flow_data": "{oops"}, "must be a JSON object"),
        (booking_flow(), {"flow_data": "[1]"}, "must be a JSON object"),
        (booking_flow(), {"flow_data": "[" * 100_000}, "longer than"),
        (booking_flow(flow_json=None), {"flow_data": '{"a": 1}'}, "Name the first screen"),
    ],
)
async def test_a_flow_the_composer_cannot_send_is_refused_with_a_reason(
    flow: Flow, form: dict[str, str], message: str
) -> None:
    with pytest.raises(DomainError, match=message):
        await flow_request(flow, **form)


def commerce(mode: str, **form: str) -> Any:
    return chat_page.api_request(
        "972987654321", "interactive", chat_page._commerce_interactive(form, mode), None
    )


def test_the_composers_commerce_messages_are_what_the_json_api_makes_of_the_same_objects() -> None:
    product = commerce(
        "product", product_catalog="C1", product_id="SKU", product_body="Nice", product_footer=""
    )
    assert product.payload == {
        "type": "product",
        "action": {"catalog_id": "C1", "product_retailer_id": "SKU"},
        "body": {"text": "Nice"},
    }
    products = commerce(
        "products",
        products_catalog="C1",
        products_header="Menu",
        products_body="Pick",
        products_section="Mains",
        products_ids=" A \nB, C\n\nA",
    )
    assert products.payload["action"]["sections"] == [
        {"title": "Mains", "product_items": [{"product_retailer_id": i} for i in ("A", "B", "C")]}
    ]
    assert commerce("catalog", catalog_body="Browse").payload == {
        "type": "catalog_message",
        "body": {"text": "Browse"},
        "action": {"name": "catalog_message"},
    }
    location: Any = chat_page.api_request(
        "972987654321",
        "interactive",
        chat_page._commerce_interactive({"location_body": "Where?"}, "location"),
        "wamid.X",
    )
    assert location.payload["type"] == "location_request_message" and location.context_wamid == "wamid.X"


@pytest.mark.parametrize(
    ("mode", "form", "message"),
    [
        ("product", {"product_catalog": "C1"}, "catalog id and the product"),
        ("products", {"products_catalog": "C1", "products_header": "H", "products_body": "B"}, "section"),
        (
            "products",
            {"products_catalog": "C", "products_header": "H", "products_body": "B", "products_section": "S"},
            "List the products",
        ),
        (
            "products",
            {
                "products_catalog": "C",
                "products_header": "H",
                "products_body": "B",
                "products_section": "S",
                "products_ids": ",".join(f"P{n}" for n in range(31)),
            },
            "at most 30 products",
        ),
        ("products", {"products_header": "H" * 61}, "longer than 60"),
        ("catalog", {}, "catalog message's text"),
        ("location", {"location_body": " "}, "what the location is for"),
    ],
)
def test_commerce_input_the_composer_cannot_send_is_refused_with_a_reason(
    mode: str, form: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        chat_page._commerce_interactive(form, mode)


def test_a_recipient_the_json_api_would_refuse_is_refused_the_same_way() -> None:
    with pytest.raises(InvalidInput, match="not valid"):
        chat_page.api_request("12", "interactive", {"type": "catalog_message"}, None)
