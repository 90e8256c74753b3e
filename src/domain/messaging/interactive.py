"""What Meta requires of the interactive messages beyond buttons and lists: catalog and commerce
messages (single product, multi-product, catalog) and location requests.

Shapes (Cloud API, "Sell products and services" and "Location request messages"):

    {"type": "product", "body"?: {...}, "footer"?: {...},
     "action": {"catalog_id": "...", "product_retailer_id": "..."}}
    {"type": "product_list", "header": {"type": "text", "text": "..."}, "body": {"text": "..."},
     "action": {"catalog_id": "...", "sections": [{"title": "...", "product_items":
                 [{"product_retailer_id": "..."}, ...]}, ...]}}          (at most 10 sections, 30 items)
    {"type": "catalog_message", "body": {"text": "..."},
     "action": {"name": "catalog_message", "parameters"?: {"thumbnail_product_retailer_id": "..."}}}
    {"type": "location_request_message", "body": {"text": "..."}, "action": {"name": "send_location"}}
"""

from __future__ import annotations

from typing import Any

MAX_SECTIONS = 10
MAX_PRODUCTS = 30
MAX_BODY = 1024
MAX_HEADER = 60
MAX_SECTION_TITLE = 24
COMMERCE_TYPES = frozenset({"product", "product_list", "catalog_message"})
LOCATION_REQUEST = "location_request_message"


def _text(obj: object, key: str = "text") -> str | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def _body_problem(payload: dict[str, Any], kind: str, *, required: bool) -> str | None:
    body = payload.get("body")
    if body is None and not required:
        return None
    text = _text(body)
    if text is None:
        return f"a {kind} message needs 'body': {{'text': ...}}"
    if len(text) > MAX_BODY:
        return f"a {kind} message's body text holds at most {MAX_BODY} characters"
    return None


def _product_list_problem(payload: dict[str, Any], action: dict[str, Any]) -> str | None:
    header = payload.get("header")
    if not (isinstance(header, dict) and header.get("type") == "text" and _text(header)):
        return "a product_list message needs a text header: 'header': {'type': 'text', 'text': ...}"
    if len(_text(header) or "") > MAX_HEADER:
        return f"a product_list header holds at most {MAX_HEADER} characters"
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        return "a product_list message needs 'action.sections' with the products"
    if len(sections) > MAX_SECTIONS:
        return f"a product_list message holds at most {MAX_SECTIONS} sections"
    products = 0
    for number, section in enumerate(sections, start=1):
        if not isinstance(section, dict):
            return f"section {number} must be an object"
        title = section.get("title")
        if len(sections) > 1 and not _text(section, "title"):
            return f"section {number} needs a 'title' (required when there is more than one section)"
        if isinstance(title, str) and len(title) > MAX_SECTION_TITLE:
            return f"section {number}'s title holds at most {MAX_SECTION_TITLE} characters"
        items = section.get("product_items")
        if not isinstance(items, list) or not items:
            return f"section {number} needs 'product_items'"
        for item in items:
            if not _text(item, "product_retailer_id"):
                return f"every product item of section {number} needs its 'product_retailer_id'"
        products += len(items)
    if products > MAX_PRODUCTS:
        return f"a product_list message holds at most {MAX_PRODUCTS} products in all"
    return None


def interactive_problem(payload: dict[str, Any]) -> str | None:
    """Why Meta would refuse this interactive object, for the types named above; None if it fits (or is
    of another interactive type, checked elsewhere)."""
    kind = payload.get("type")
    action = payload.get("action")
    if kind not in COMMERCE_TYPES and kind != LOCATION_REQUEST:
        return None
    if not isinstance(action, dict):
        return f"a {kind} message needs its 'action' object"
    if kind == "product":
        if not (_text(action, "catalog_id") and _text(action, "product_retailer_id")):
            return "a product message needs 'action.catalog_id' and 'action.product_retailer_id'"
        if payload.get("header") is not None:
            return "a product message has no header (Meta shows the product's image)"
        return _body_problem(payload, "product", required=False)
    if kind == "product_list":
        if not _text(action, "catalog_id"):
            return "a product_list message needs 'action.catalog_id'"
        return _body_problem(payload, "product_list", required=True) or _product_list_problem(payload, action)
    if kind == "catalog_message":
        if action.get("name") != "catalog_message":
            return "a catalog_message needs 'action': {'name': 'catalog_message'}"
        parameters = action.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            return "a catalog_message's 'action.parameters' must be an object"
        return _body_problem(payload, "catalog_message", required=True)
    if action.get("name") != "send_location":
        return "a location_request_message needs 'action': {'name': 'send_location'}"
    return _body_problem(payload, "location_request_message", required=True)
