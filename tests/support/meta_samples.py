"""Meta webhook bodies for tests: the shared samples (rewritten to a test's ids) and small builders.

The samples in `../shared/samples/meta-webhooks/` reuse a handful of message ids, senders and phone number
ids; `SampleRewriter` gives every message its own wamid and every sender its own number and profile name,
and points the bodies at the test channel's phone number id and WABA id.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A copy of the shared samples (PyWA's test data, MIT licence) lives in the repository: tests never skip.
SAMPLES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "meta-webhooks"
OLDER_SHAPES = "older-api-shapes"
SAMPLE_PHONE_NUMBER_IDS = frozenset({"1122334455667", "106540352242922", "<BUSINESS_PHONE_NUMBER_ID>"})
"""The business phone number ids the samples use for "our" number; other ids (calls) stay unknown."""

Body = dict[str, Any]


@dataclass(frozen=True)
class Sample:
    key: str
    """The file under the samples folder, with `#name` for one named body of a file holding several."""
    body: Body


def load_samples(directory: Path = SAMPLES_DIR) -> list[Sample]:
    """Every webhook body of the samples, in file order; each named body of the older files on its own."""
    samples: list[Sample] = []
    for path in sorted(directory.rglob("*.json")):
        key = path.relative_to(directory).as_posix()
        content = json.loads(path.read_text(encoding="utf-8"))
        if key.startswith(OLDER_SHAPES + "/"):
            samples.extend(Sample(f"{key}#{name}", body) for name, body in content.items())
        elif "all" in content and "entry" in content:
            main = {name: value for name, value in content.items() if name != "all"}
            samples.append(Sample(key, main))
            samples.append(Sample(f"{key}#all", content["all"]))
        else:
            samples.append(Sample(key, content))
    return samples


def changes(body: Body) -> Iterator[dict[str, Any]]:
    for entry in body.get("entry") or []:
        yield from entry.get("changes") or []


def message_values(body: Body) -> Iterator[dict[str, Any]]:
    """The `value` of every change of field "messages"."""
    for change in changes(body):
        if change.get("field") == "messages" and isinstance(change.get("value"), dict):
            yield change["value"]


def messages_of(body: Body) -> list[dict[str, Any]]:
    return [message for value in message_values(body) for message in value.get("messages") or []]


def statuses_of(body: Body) -> list[dict[str, Any]]:
    return [status for value in message_values(body) for status in value.get("statuses") or []]


def profile_names(body: Body) -> dict[str, str]:
    names: dict[str, str] = {}
    for value in message_values(body):
        for contact in value.get("contacts") or []:
            name = (contact.get("profile") or {}).get("name")
            if name and contact.get("wa_id"):
                names[contact["wa_id"]] = name
    return names


class SampleRewriter:
    """Rewrites sample bodies so that each message has its own wamid and each sender its own number."""

    def __init__(self, *, phone_number_id: str, waba_id: str, run: str) -> None:
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id
        self.run = run
        self._counter = itertools.count(1)

    def wamid(self) -> str:
        return f"wamid.{self.run}.{next(self._counter):04d}"

    def rewrite(self, body: Body) -> Body:
        body = copy.deepcopy(body)
        for entry in body.get("entry") or []:
            if isinstance(entry, dict):
                entry["id"] = self.waba_id
        for change in changes(body):
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            metadata = value.get("metadata")
            if isinstance(metadata, dict) and metadata.get("phone_number_id") in SAMPLE_PHONE_NUMBER_IDS:
                metadata["phone_number_id"] = self.phone_number_id
            if change.get("field") != "messages":
                continue
            n = next(self._counter)
            senders: dict[str, str] = {}
            for index, message in enumerate(value.get("messages") or []):
                message["id"] = f"wamid.{self.run}.{n:04d}.{index}"
                if "from" in message:
                    sender = senders.setdefault(message["from"], f"97250{n:04d}{len(senders)}")
                    message["from"] = sender
            for index, status in enumerate(value.get("statuses") or []):
                status["id"] = f"wamid.{self.run}.{n:04d}.status{index}"
            for contact in value.get("contacts") or []:
                if contact.get("wa_id") in senders:
                    contact["wa_id"] = senders[contact["wa_id"]]
                elif senders and contact.get("wa_id"):
                    # The sample names a contact who is not the sender (the edit sample): the same person.
                    contact["wa_id"] = next(iter(senders.values()))
                profile = contact.get("profile")
                if isinstance(profile, dict) and profile.get("name"):
                    profile["name"] = f"Customer {n:04d}"
        return body


# --- builders ----------------------------------------------------------------------------------------------


def sign(raw: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


def text_message(
    wamid: str, wa_id: str, text: str, *, timestamp: int = 1_700_000_000, context: Body | None = None
) -> Body:
    message: Body = {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(timestamp),
        "type": "text",
        "text": {"body": text},
    }
    if context is not None:
        message["context"] = context
    return message


def reaction_message(
    wamid: str, wa_id: str, target_wamid: str, emoji: str | None, *, timestamp: int = 1_700_000_000
) -> Body:
    reaction: Body = {"message_id": target_wamid}
    if emoji is not None:
        reaction["emoji"] = emoji
    return {"from": wa_id, "id": wamid, "timestamp": str(timestamp), "type": "reaction", "reaction": reaction}


def status_item(
    wamid: str,
    status: str,
    recipient: str,
    *,
    timestamp: int = 1_700_000_000,
    error: tuple[int, str] | None = None,
) -> Body:
    item: Body = {"id": wamid, "status": status, "timestamp": str(timestamp), "recipient_id": recipient}
    if error is not None:
        code, title = error
        item["errors"] = [
            {"code": code, "title": title, "message": title, "error_data": {"details": title + "."}}
        ]
    return item


def messages_change(
    phone_number_id: str,
    *,
    messages: list[Body] | None = None,
    statuses: list[Body] | None = None,
    names: dict[str, str] | None = None,
) -> Body:
    value: Body = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id},
    }
    if names:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id} for wa_id, name in names.items()]
    if messages:
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {"value": value, "field": "messages"}


def webhook_body(*entries: tuple[str, list[Body]]) -> Body:
    """A body of entries, each `(waba_id, [change, ...])`."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": entry_changes} for waba_id, entry_changes in entries],
    }


def single_change_body(waba_id: str, change: Body) -> Body:
    return webhook_body((waba_id, [change]))
