"""Before a template message goes to Meta: is its template sendable, and do its parameters fit?

A template stored here (synced, submitted or announced by a webhook) is checked: it must be APPROVED and the
send's `components` must fill its placeholders exactly. A template not stored here is passed through to
Meta unchecked, on purpose: it may have been created in Meta's Business Manager since the last sync, and
Meta refuses an unknown one itself (132001) with an answer the send reports.
"""

from __future__ import annotations

from typing import Any

from pywhatsapp.application.templates.ports import TemplateRegistry
from pywhatsapp.domain.templates.errors import TemplateNotSendable
from pywhatsapp.domain.templates.parameters import check_template_parameters
from pywhatsapp.domain.templates.template import MessageTemplate

SENDABLE_STATUS = "APPROVED"


async def check_template_send(registry: TemplateRegistry, payload: dict[str, Any]) -> MessageTemplate | None:
    """The stored template the send names (None when unknown here); raises when it cannot be sent so."""
    language = payload.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    template = await registry.find(meta_template_id=None, name=str(payload.get("name")), language=str(code))
    if template is None:
        return None
    if template.status != SENDABLE_STATUS:
        raise TemplateNotSendable(template.name, template.language, template.status)
    check_template_parameters(
        template.components, payload.get("components"), parameter_format=template.parameter_format
    )
    return template
