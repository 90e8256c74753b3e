"""What the simulator remembers, in memory, for one process: sends, media, templates, faults, webhooks."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pywhatsapp.adapters.whatsapp.simulator.settings import SimulatorSettings

FaultKind = Literal["latency", "http_500", "error", "drop"]
FAULT_KINDS: tuple[FaultKind, ...] = ("latency", "http_500", "error", "drop")

GRAPH_PATH = re.compile(r"^/v\d+(\.\d+)?/")
MEDIA_DOWNLOAD_PATH = "/whatsapp_business/attachments"


@dataclass
class SentMessage:
    wamid: str
    phone_number_id: str
    to: str
    wa_id: str
    user_id: str
    type: str
    body: dict[str, Any]
    category: str
    biz_opaque_callback_data: str | None
    received_at: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StoredMedia:
    id: str
    phone_number_id: str
    data: bytes
    mime_type: str
    filename: str | None
    sha256: str
    uploaded_at: float

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "phone_number_id": self.phone_number_id,
            "mime_type": self.mime_type,
            "filename": self.filename,
            "sha256": self.sha256,
            "file_size": len(self.data),
            "uploaded_at": self.uploaded_at,
        }


@dataclass
class Fault:
    kind: FaultKind
    remaining: int = 1
    seconds: float = 0.0
    code: int | None = None
    http_status: int | None = None
    match: str | None = None
    """Only requests whose path contains this (e.g. "/messages"); None matches every Graph API call."""

    def applies_to(self, path: str) -> bool:
        return self.remaining > 0 and (self.match is None or self.match in path)


@dataclass
class WebhookAttempt:
    url: str
    kind: str
    """"status", "message" or "template_status"."""
    body_type: str
    """What the body carries: "statuses.sent", "messages.text",
    "message_template_status_update.APPROVED"..."""
    attempt: int
    status_code: int | None
    error: str | None
    delivered: bool
    signed: bool
    wamid: str | None
    at: float
    payload: dict[str, Any] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReadReceipt:
    phone_number_id: str
    message_id: str
    typing_indicator: bool
    at: float


class SimulatorState:
    """All mutable state; touched only from the server's event loop."""

    def __init__(self, settings: SimulatorSettings) -> None:
        self.settings = settings
        self.sent: list[SentMessage] = []
        self.by_wamid: dict[str, SentMessage] = {}
        self.read_receipts: list[ReadReceipt] = []
        self.media: dict[str, StoredMedia] = {}
        self.templates: list[dict[str, Any]] = []
        self.template_wabas: dict[str, str] = {}
        """Which WABA owns each template (by id); a template not in it belongs to the settings' WABA."""
        self.faults: list[Fault] = []
        self.webhooks: list[WebhookAttempt] = []
        self.inbound: list[dict[str, Any]] = []
        self.subscriptions: dict[str, dict[str, Any]] = {}
        """App webhook subscriptions made through `/{app_id}/subscriptions`, by app id."""
        self._tasks: set[asyncio.Task[Any]] = set()

    def reset(self) -> None:
        """Forget everything but the settings; background deliveries still running are cancelled."""
        self.cancel_tasks()
        self.sent.clear()
        self.by_wamid.clear()
        self.read_receipts.clear()
        self.media.clear()
        self.templates.clear()
        self.template_wabas.clear()
        self.faults.clear()
        self.webhooks.clear()
        self.inbound.clear()

    def record_sent(self, message: SentMessage) -> None:
        self.sent.append(message)
        self.by_wamid[message.wamid] = message

    def take_fault(self, path: str) -> Fault | None:
        """The fault the Graph API call at `path` gets, counted as used; None if none is pending."""
        download = path.startswith(MEDIA_DOWNLOAD_PATH)
        if not GRAPH_PATH.match(path) and not download:
            return None
        for fault in self.faults:
            # Media downloads get only the faults that name their path (`"match": "attachments"`).
            if fault.applies_to(path) and (not download or fault.match is not None):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def template(self, template_id: str) -> dict[str, Any] | None:
        return next((t for t in self.templates if t["id"] == template_id), None)

    def waba_of(self, template: dict[str, Any]) -> str:
        return self.template_wabas.get(str(template["id"]), self.settings.waba_id)

    def templates_of(self, waba_id: str) -> list[dict[str, Any]]:
        """A WABA's templates, oldest first: like Meta, every WABA has its own."""
        return [t for t in self.templates if self.waba_of(t) == waba_id]

    def add_template(self, waba_id: str, template: dict[str, Any]) -> None:
        self.templates.append(template)
        self.template_wabas[str(template["id"])] = waba_id

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run in the background, keeping a reference so the task is neither collected nor forgotten."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def pending_tasks(self) -> int:
        return len(self._tasks)

    def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()
