"""The rules of catalog, product and location request messages, inbound orders, QR codes and typing."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from pywhatsapp.application.inbox.indicate_typing import IndicateTyping, NothingToAnswer
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.interactive import interactive_problem
from pywhatsapp.domain.messaging.message import Direction, Message
from pywhatsapp.domain.messaging.order import order_content, order_summary
from pywhatsapp.domain.messaging.sending import check_payload
from pywhatsapp.domain.qr_codes.qr_code import image_format, prefilled_message, scanned_text
from pywhatsapp.domain.tenancy.membership import Role
from tests.unit.fakes import FakeUnitOfWorkFactory

CATALOG = "354160437058781"


def product_list(sections: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "type": "product_list",
        "header": {"type": "text", "text": "Menu"},
        "body": {"text": "Pick"},
        "action": {"catalog_id": CATALOG, "sections": sections},
        **extra,
    }


def items(n: int) -> list[dict[str, str]]:
    return [{"product_retailer_id": f"SKU{i}"} for i in range(n)]


def test_valid_commerce_and_location_request_messages_pass() -> None:
    for payload in (
        {"type": "product", "action": {"catalog_id": CATALOG, "product_retailer_id": "A"}},
        product_list([{"title": "All", "product_items": items(30)}]),
        product_list([{"product_items": items(3)}]),  # one section needs no title
        {"type": "catalog_message", "body": {"text": "See"}, "action": {"name": "catalog_message"}},
        {"type": "location_request_message", "body": {"text": "Where?"}, "action": {"name": "send_location"}},
        {"type": "button", "body": {"text": "x"}, "action": {"buttons": []}},  # other types: not ours
    ):
        assert interactive_problem(payload) is None, payload
        check_payload("interactive", payload)


@pytest.mark.parametrize(
    ("payload", "word"),
    [
        ({"type": "product", "action": {"catalog_id": CATALOG}}, "product_retailer_id"),
        (
            {
                "type": "product",
                "header": {"type": "text", "text": "x"},
                "action": {"catalog_id": CATALOG, "product_retailer_id": "A"},
            },
            "header",
        ),
        (product_list([{"title": "All", "product_items": items(31)}]), "30"),
        (
            product_list(
                [{"title": "A", "product_items": items(16)}, {"title": "B", "product_items": items(15)}]
            ),
            "30",
        ),
        (product_list([{"title": f"S{i}", "product_items": items(1)} for i in range(11)]), "10 sections"),
        (product_list([{"product_items": items(1)}, {"product_items": items(1)}]), "title"),
        (product_list([{"title": "A", "product_items": [{"id": "x"}]}]), "product_retailer_id"),
        (product_list([{"title": "A", "product_items": items(1)}], header=None), "header"),
        (product_list([{"title": "A", "product_items": items(1)}], body={"text": " "}), "body"),
        (product_list([]), "sections"),
        (
            {"type": "catalog_message", "body": {"text": "x"}, "action": {"name": "catalog"}},
            "catalog_message",
        ),
        ({"type": "catalog_message", "action": {"name": "catalog_message"}}, "body"),
        (
            {"type": "location_request_message", "body": {"text": "x"}, "action": {"name": "x"}},
            "send_location",
        ),
        ({"type": "location_request_message", "action": {"name": "send_location"}}, "body"),
    ],
)
def test_what_meta_would_refuse_is_named(payload: dict[str, Any], word: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_payload("interactive", payload)
    assert word in refused.value.message


def test_an_order_is_read_with_its_items_and_totals() -> None:
    content = order_content(
        {
            "catalog_id": CATALOG,
            "text": "",
            "product_items": [
                {"product_retailer_id": "A", "quantity": 2, "item_price": "10.5", "currency": "USD"},
                {"product_retailer_id": "B", "quantity": "1", "item_price": 21, "currency": "USD"},
                {"product_retailer_id": "C", "quantity": 1, "item_price": 5, "currency": "EUR"},
                "not an item",
            ],
        }
    )
    assert content["catalog_id"] == CATALOG and content["item_count"] == 4
    assert content["totals"] == {"USD": "42.00", "EUR": "5.00"}
    assert [(i["product_retailer_id"], i["quantity"], i["item_price"]) for i in content["product_items"]] == [
        ("A", 2, 10.5),
        ("B", 1, 21.0),
        ("C", 1, 5.0),
    ]
    assert order_summary(content) == "Order: 4 items, 42.00 USD + 5.00 EUR"


def test_a_broken_order_is_kept_without_crashing() -> None:
    assert order_summary(order_content(None)) == "Order: 0 items"
    odd = order_content(
        {
            "product_items": [
                {"product_retailer_id": "A", "quantity": True, "item_price": "NaN", "currency": "USD"},
                {"product_retailer_id": "B", "quantity": 10**12, "item_price": "1e999999", "currency": "USD"},
                {"product_retailer_id": "C", "quantity": 1, "item_price": -3, "currency": 5},
            ],
            "text": "gift wrap",
        }
    )
    assert odd["item_count"] == 1 and odd["totals"] == {}
    assert order_summary(odd) == "Order: 1 item (gift wrap)"


def test_qr_code_rules() -> None:
    assert prefilled_message("  Hi there ") == "Hi there"
    for bad in ("   ", "x" * 141, "a\x00b"):
        with pytest.raises(InvalidInput):
            prefilled_message(bad)
    assert image_format("svg") == "SVG"
    with pytest.raises(InvalidInput):
        image_format("gif")
    assert scanned_text("  Hi there \n") == "Hi there"
    assert scanned_text("   ") is None and scanned_text(None) is None and scanned_text("x" * 141) is None


class Reader:
    def __init__(self, last: Message | None) -> None:
        self.last = last

    async def mark_read(self, tenant_id: Any, conversation_id: Any) -> Message | None:
        return self.last


class Typing:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def indicate_typing(self, channel: Channel, wamid: str) -> None:
        self.calls.append((channel.phone_number_id, wamid))


async def test_typing_needs_an_inbound_message_to_answer(factory: FakeUnitOfWorkFactory) -> None:
    principal = Principal(
        user_id=uuid4(), username="ann", tenant_id=uuid4(), tenant_slug="t", tenant_name="T", role=Role.AGENT
    )
    uow_factory = factory
    gateway = Typing()
    use_case = IndicateTyping(Reader(None), uow_factory, gateway)  # type: ignore[arg-type]
    with pytest.raises(NothingToAnswer):
        await use_case.execute(principal, uuid4())
    unsent = Message(tenant_id=principal.tenant_id, direction=Direction.INCOMING, type="text", wa_id="1")
    with pytest.raises(NothingToAnswer):  # stored without a wamid: nothing Meta could show typing on
        await IndicateTyping(Reader(unsent), uow_factory, gateway).execute(principal, uuid4())  # type: ignore[arg-type]
    assert gateway.calls == []
