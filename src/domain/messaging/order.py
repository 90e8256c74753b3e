"""An inbound `order` message (a cart the customer sent from the business's catalog), read defensively.

Meta's shape (webhooks, messages, type "order"):

    {"catalog_id": "...", "text": "...", "product_items": [
        {"product_retailer_id": "SKU1", "quantity": 2, "item_price": 30, "currency": "USD"}, ...]}
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

MAX_QUANTITY = 1_000_000
MAX_PRICE = Decimal(10) ** 12


def order_content(order: object) -> dict[str, Any]:
    """The order as stored: catalog id, note, items (retailer id, quantity, price, currency) and totals.

    Items Meta sent in an unexpected shape are kept as given (under `product_items`) but not counted."""
    if not isinstance(order, dict):
        return {"product_items": [], "item_count": 0, "totals": {}}
    items: list[dict[str, Any]] = []
    count = 0
    totals: dict[str, Decimal] = {}
    listed = order.get("product_items")
    for raw in listed if isinstance(listed, list) else []:
        if not isinstance(raw, dict):
            continue
        quantity = _quantity(raw.get("quantity"))
        price = _price(raw.get("item_price"))
        currency = raw.get("currency") if isinstance(raw.get("currency"), str) else None
        item = dict(raw)
        item["quantity"] = quantity
        item["item_price"] = float(price) if price is not None else raw.get("item_price")
        items.append(item)
        count += quantity
        if price is not None and currency:
            totals[currency] = totals.get(currency, Decimal(0)) + price * quantity
    content: dict[str, Any] = {key: value for key, value in order.items() if key != "product_items"}
    content["product_items"] = items
    content["item_count"] = count
    content["totals"] = {currency: f"{total:.2f}" for currency, total in totals.items()}
    return content


def order_summary(content: dict[str, Any]) -> str:
    """What a person sees for the order in a conversation list: "Order: 3 items, 42.00 USD"."""
    count = content.get("item_count") if isinstance(content.get("item_count"), int) else 0
    totals = content.get("totals") if isinstance(content.get("totals"), dict) else {}
    summary = f"Order: {count} item{'' if count == 1 else 's'}"
    if totals:
        summary += ", " + " + ".join(f"{total} {currency}" for currency, total in totals.items())
    note = content.get("text")
    if isinstance(note, str) and note.strip():
        summary += f" ({note.strip()})"
    return summary


def _quantity(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_QUANTITY:
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 9:
        value = int(value.strip())
    return value if isinstance(value, int) and 0 <= value <= MAX_QUANTITY else 0


def _price(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    # Beyond any real price (and far from Decimal's exponent limits, which totals must not reach).
    return price if price.is_finite() and 0 <= price <= MAX_PRICE else None
