"""A WABA's message templates at Meta, through PyWA's low-level Graph API calls.

PyWA's typed `TemplateDetails` re-models components into classes (and drops what it does not know, such as
newer button kinds); the raw dicts of `client.api` keep every field exactly as Meta sends it, which is what
is stored, previewed and checked against sends.
"""

from __future__ import annotations

import logging
from typing import Any

from pywhatsapp.adapters.whatsapp.pywa_gateway import PywaGateway
from pywhatsapp.adapters.whatsapp.waba_calls import call_meta, page_of, waba_id
from pywhatsapp.application.templates.ports import MigratedPage, RemotePage, RemoteTemplate, SubmittedTemplate
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.templates.errors import TemplateRefused
from pywhatsapp.domain.templates.submission import TemplateDraft

logger = logging.getLogger(__name__)

FIELDS = (
    "id",
    "name",
    "language",
    "status",
    "category",
    "components",
    "parameter_format",
    "quality_score",
    "rejected_reason",
)
TEMPLATE_NOT_FOUND_SUBCODE = 2593002


def _remote(item: dict[str, Any]) -> RemoteTemplate | None:
    if not item.get("id") or not item.get("name") or not item.get("language"):
        return None
    quality = item.get("quality_score")
    components = item.get("components")
    rejected = item.get("rejected_reason")
    return RemoteTemplate(
        meta_template_id=str(item["id"]),
        name=str(item["name"]),
        language=str(item["language"]),
        status=str(item.get("status") or "PENDING").upper(),
        category=str(item["category"]).upper() if item.get("category") else None,
        components=[c for c in components if isinstance(c, dict)] if isinstance(components, list) else [],
        parameter_format=str(item["parameter_format"]).upper() if item.get("parameter_format") else None,
        # Meta sends `{"score": "GREEN", "date": ...}`; older answers a bare string.
        quality_score=str(quality.get("score")) if isinstance(quality, dict) else (quality or None),
        rejected_reason=str(rejected) if rejected and rejected != "NONE" else None,
    )


class PywaTemplates:
    def __init__(self, gateway: PywaGateway) -> None:
        self._gateway = gateway

    def _waba(self, channel: Channel) -> str:
        return waba_id(channel, to_manage="templates")

    async def _call(self, operation: str, coroutine: Any) -> Any:
        return await call_meta(operation, coroutine, refused=TemplateRefused, logger=logger)

    async def page(self, channel: Channel, *, after: str | None, limit: int) -> RemotePage:
        client = self._gateway.client_for(channel)
        answer = await self._call(
            "list templates",
            client.api.get_templates(
                waba_id=self._waba(channel),
                fields=FIELDS,
                pagination={"limit": limit, "after": after},
            ),
        )
        items, cursor = page_of(answer)
        templates = [t for t in (_remote(i) for i in items) if t is not None]
        return RemotePage(templates=templates, after=cursor)

    async def submit(self, channel: Channel, draft: TemplateDraft) -> SubmittedTemplate:
        client = self._gateway.client_for(channel)
        answer = await self._call(
            "submit template",
            client.api.create_template(waba_id=self._waba(channel), template=draft.as_meta_request()),
        )
        return SubmittedTemplate(
            meta_template_id=str(answer["id"]),
            status=str(answer.get("status") or "PENDING").upper(),
            category=str(answer.get("category") or draft.category).upper(),
        )

    async def delete(self, channel: Channel, *, name: str, meta_template_id: str | None) -> None:
        client = self._gateway.client_for(channel)
        try:
            await self._call(
                "delete template",
                client.api.delete_template(
                    waba_id=self._waba(channel), template_name=name, template_id=meta_template_id
                ),
            )
        except TemplateRefused as refused:
            if refused.subcode != TEMPLATE_NOT_FOUND_SUBCODE:
                raise
            # Already gone at Meta: the goal of the call is reached.

    async def migrate(self, channel: Channel, *, source_waba_id: str, page_number: int) -> MigratedPage:
        client = self._gateway.client_for(channel)
        answer = await self._call(
            "migrate templates",
            client.api.migrate_templates(
                dest_waba_id=self._waba(channel), source_waba_id=source_waba_id, page_number=page_number
            ),
        )
        migrated = answer.get("migrated_templates") or []
        failed = answer.get("failed_templates") or {}
        return MigratedPage(
            migrated=[str(i) for i in migrated],
            failed={str(k): str(v) for k, v in failed.items()} if isinstance(failed, dict) else {},
        )
