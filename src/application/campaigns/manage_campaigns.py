"""Create campaigns, choose their recipients, and start, schedule, pause, resume or cancel them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from pywhatsapp.application.campaigns.ports import AudienceSpec
from pywhatsapp.application.common.unit_of_work import UnitOfWork, UnitOfWorkFactory
from pywhatsapp.application.messaging.channels import sending_channel
from pywhatsapp.domain.campaigns.campaign import (
    Campaign,
    CampaignCounts,
    CampaignRecipient,
    CampaignStatus,
    RecipientState,
    SkipReason,
    validate_campaign_content,
)
from pywhatsapp.domain.campaigns.personalize import MissingField, contact_fields, personalize
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.contacts.phone import normalize_phone
from pywhatsapp.domain.errors import Conflict, InvalidInput, NotFound
from pywhatsapp.domain.flows.flow import DELETED, PUBLISHED
from pywhatsapp.domain.flows.rules import flow_message, flow_token_for
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.conversation import window_is_open
from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent
from pywhatsapp.domain.templates.parameters import check_template_parameters
from pywhatsapp.domain.tenancy.membership import Role

MAX_RECIPIENTS_PER_CALL = 100_000


@dataclass(frozen=True)
class FlowChoice:
    """The flow a flow campaign sends: one of the tenant's published flows, its button, first screen."""

    flow_id: UUID
    cta: str
    screen: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CampaignDraft:
    name: str
    template_name: str | None = None
    language: str | None = None
    components: list[dict[str, Any]] = field(default_factory=list)
    text: str | None = None
    """Free text, or the body of the flow message when `flow` is set."""
    channel_id: UUID | None = None
    flow: FlowChoice | None = None


@dataclass(frozen=True)
class ListedRecipient:
    """A recipient named directly (API list or CSV row): a number and the fields for its parameters."""

    phone: str
    name: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RecipientsAdded:
    added: int
    duplicates: int
    skipped: dict[str, int]
    rejected: list[dict[str, Any]]
    """Numbers that could not be used, with the reason (row number for CSV rows)."""


@dataclass(frozen=True)
class CampaignView:
    campaign: Campaign
    counts: CampaignCounts


def progress_event(campaign: Campaign, counts: CampaignCounts) -> RealtimeEvent:
    return RealtimeEvent(
        EventType.CAMPAIGN_PROGRESS,
        campaign.tenant_id,
        {
            "id": str(campaign.id),
            "campaign_id": str(campaign.id),
            "name": campaign.name,
            "status": campaign.status.value,
            "counts": counts.as_dict(),
        },
    )


class ManageCampaigns:
    def __init__(self, uow_factory: UnitOfWorkFactory, default_region: str = "US") -> None:
        self._uow_factory = uow_factory
        self._default_region = default_region

    async def create(self, principal: Principal, draft: CampaignDraft) -> Campaign:
        principal.require(Role.ADMIN)
        validate_campaign_content(
            template_name=draft.template_name,
            language=draft.language,
            text=draft.text,
            flow=draft.flow is not None,
        )
        async with self._uow_factory(principal.tenant_id) as uow:
            channel = await sending_channel(uow, draft.channel_id)
            if draft.template_name is not None:
                await self._check_template(uow, draft)
            flow = await self._flow_of(uow, draft) if draft.flow is not None else None
            campaign = await uow.campaigns.add(
                Campaign(
                    tenant_id=principal.tenant_id,
                    name=draft.name,
                    channel_id=channel.id,
                    template_name=draft.template_name,
                    language=draft.language,
                    text=draft.text,
                    parameters={"components": draft.components} if draft.template_name else {},
                    flow=flow,
                    created_by_user_id=principal.user_id if principal.api_key_id is None else None,
                )
            )
            await uow.commit()
        return campaign

    async def _flow_of(self, uow: UnitOfWork, draft: CampaignDraft) -> dict[str, Any]:
        """The campaign's flow as each send needs it, refused now if Meta would refuse every send."""
        assert draft.flow is not None
        choice = draft.flow
        flow = await uow.flows.get(choice.flow_id)
        if flow is None or flow.status == DELETED:
            raise NotFound(f"No flow {choice.flow_id}; list the tenant's flows with GET /api/v1/flows")
        if flow.status != PUBLISHED or not flow.meta_flow_id:
            raise Conflict(
                f"The flow {flow.name} is {flow.status}: publish it first "
                f"(POST /api/v1/flows/{flow.id}/publish)"
            )
        flow_message(  # InvalidInput when the button, screen or data would not do
            meta_flow_id=flow.meta_flow_id,
            body=draft.text or "",
            cta=choice.cta,
            token=flow_token_for(flow.id, "check"),
            screen=choice.screen,
            data=choice.data,
        )
        return {
            "flow_id": str(flow.id),
            "meta_flow_id": flow.meta_flow_id,
            "name": flow.name,
            "cta": choice.cta,
            "screen": choice.screen,
            "data": choice.data,
        }

    async def _check_template(self, uow: UnitOfWork, draft: CampaignDraft) -> None:
        template = await uow.template_registry.find(
            meta_template_id=None, name=draft.template_name, language=draft.language
        )
        if template is None:
            return  # not synced here: Meta judges it (run `pywhatsapp templates sync` to check before)
        if template.status.upper() != "APPROVED":
            raise Conflict(
                f"The template {template.name} ({template.language}) is {template.status}, not APPROVED;"
                " only approved templates can be sent"
            )
        # Refused now, not 20,000 times at Meta: the count and kind of parameters must fit the template.
        check_template_parameters(
            template.components,
            _with_sample_fields(draft.components),
            parameter_format=template.parameter_format,
        )

    async def add_recipients(
        self,
        principal: Principal,
        campaign_id: UUID,
        spec: AudienceSpec | None = None,
        listed: Sequence[ListedRecipient] = (),
    ) -> RecipientsAdded:
        principal.require(Role.ADMIN)
        if len(listed) > MAX_RECIPIENTS_PER_CALL:
            raise InvalidInput(f"At most {MAX_RECIPIENTS_PER_CALL} recipients per call")
        now = utc_now()
        async with self._uow_factory(principal.tenant_id) as uow:
            campaign = await self._get(uow, campaign_id)
            campaign.ensure_editable()
            candidates: list[tuple[Contact, dict[str, str]]] = []
            if spec is not None:
                for contact in await uow.campaign_recipients.audience_contacts(spec):
                    candidates.append((contact, {}))
            rejected: list[dict[str, Any]] = []
            for row_number, item in enumerate(listed, start=1):
                try:
                    wa_id = normalize_phone(item.phone, self._default_region)
                except InvalidInput as error:
                    rejected.append({"row": row_number, "phone": item.phone, "reason": str(error)})
                    continue
                contact = await uow.inbox.record_contact(wa_id, name=item.name, inbound_at=None)
                candidates.append((contact, dict(item.fields)))
            recipients, skipped, duplicates = self._recipients(campaign, candidates, now)
            added = await uow.campaign_recipients.add_many(recipients)
            duplicates += len(recipients) - added
            campaign.duplicates_skipped += duplicates
            await uow.campaigns.update(campaign)
            await uow.commit()
        return RecipientsAdded(added=added, duplicates=duplicates, skipped=skipped, rejected=rejected)

    def _recipients(
        self, campaign: Campaign, candidates: list[tuple[Contact, dict[str, str]]], now: datetime
    ) -> tuple[list[CampaignRecipient], dict[str, int], int]:
        seen: set[str] = set()
        duplicates = 0
        skipped: dict[str, int] = {}
        recipients: list[CampaignRecipient] = []
        for contact, extra in candidates:
            if contact.wa_id in seen:
                duplicates += 1
                continue
            seen.add(contact.wa_id)
            recipient = CampaignRecipient(
                tenant_id=campaign.tenant_id,
                campaign_id=campaign.id,
                wa_id=contact.wa_id,
                contact_id=contact.id,
            )
            reason = self._skip_reason(campaign, contact, now)
            if reason is None and campaign.is_template:
                fields = (
                    contact_fields(
                        wa_id=contact.wa_id,
                        name=contact.name,
                        attributes=contact.attributes,
                        tags=contact.tags,
                    )
                    | extra
                )
                try:
                    recipient.parameters = {
                        "components": personalize(campaign.parameters.get("components", []), fields)
                    }
                except MissingField as missing:
                    reason = f"no value for contact.{missing.name} (add it, or a fallback: |default)"
            if reason is not None:
                recipient.state = RecipientState.SKIPPED
                recipient.error_title = reason
                skipped[reason] = skipped.get(reason, 0) + 1
            recipients.append(recipient)
        return recipients, skipped, duplicates

    @staticmethod
    def _skip_reason(campaign: Campaign, contact: Contact, now: datetime) -> str | None:
        if contact.opted_out:
            return SkipReason.OPTED_OUT.value
        if not campaign.is_template and not window_is_open(contact.last_inbound_at, now):
            return SkipReason.WINDOW_CLOSED.value
        return None

    async def start(
        self, principal: Principal, campaign_id: UUID, at: datetime | None = None
    ) -> CampaignView:
        return await self._change(principal, campaign_id, lambda c, now: c.start(now, at), check_empty=True)

    async def pause(self, principal: Principal, campaign_id: UUID) -> CampaignView:
        return await self._change(principal, campaign_id, lambda c, now: c.pause("paused by a user"))

    async def resume(self, principal: Principal, campaign_id: UUID) -> CampaignView:
        return await self._change(principal, campaign_id, lambda c, now: c.resume(now))

    async def cancel(self, principal: Principal, campaign_id: UUID) -> CampaignView:
        return await self._change(principal, campaign_id, lambda c, now: c.cancel(now))

    async def _change(
        self, principal: Principal, campaign_id: UUID, change: Any, *, check_empty: bool = False
    ) -> CampaignView:
        principal.require(Role.ADMIN)
        now = utc_now()
        async with self._uow_factory(principal.tenant_id) as uow:
            campaign = await self._get(uow, campaign_id)
            counts = await uow.campaign_recipients.counts(campaign.id)
            if check_empty and counts.open == 0:
                raise Conflict("The campaign has no recipient to send to; add recipients first")
            change(campaign, now)
            if campaign.status is CampaignStatus.CANCELLED:
                await uow.campaign_recipients.cancel_open(campaign.id)
                counts = await uow.campaign_recipients.counts(campaign.id)
            campaign = await uow.campaigns.update(campaign)
            await uow.events.publish(progress_event(campaign, counts))
            await uow.commit()
        return CampaignView(campaign, counts)

    async def get(self, principal: Principal, campaign_id: UUID) -> CampaignView:
        async with self._uow_factory(principal.tenant_id) as uow:
            campaign = await self._get(uow, campaign_id)
            return CampaignView(campaign, await uow.campaign_recipients.counts(campaign.id))

    async def recipients(
        self,
        principal: Principal,
        campaign_id: UUID,
        *,
        state: RecipientState | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[Sequence[CampaignRecipient], CampaignCounts]:
        async with self._uow_factory(principal.tenant_id) as uow:
            campaign = await self._get(uow, campaign_id)
            page = await uow.campaign_recipients.page(campaign.id, state=state, limit=limit, offset=offset)
            return page, await uow.campaign_recipients.counts(campaign.id)

    @staticmethod
    async def _get(uow: UnitOfWork, campaign_id: UUID) -> Campaign:
        campaign = await uow.campaigns.get(campaign_id)
        if campaign is None:
            raise NotFound(f"No campaign {campaign_id} in this tenant")
        return campaign


def _with_sample_fields(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The campaign's components with every contact field filled by a sample, for the parameter check."""
    return [personalize(component, _SampleFields()) for component in components]


class _SampleFields(dict[str, str]):
    def get(self, key: str, default: Any = None) -> str:  # type: ignore[override]
        return "sample"
