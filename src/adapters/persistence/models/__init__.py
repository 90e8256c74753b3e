"""Every table of the product; importing this package registers them all on `Base.metadata`."""

from pywhatsapp.adapters.persistence.models.api_keys import ApiKeyRow
from pywhatsapp.adapters.persistence.models.campaigns import CampaignRecipientRow, CampaignRow
from pywhatsapp.adapters.persistence.models.channels import ChannelRow
from pywhatsapp.adapters.persistence.models.contact_imports import ContactImportRow
from pywhatsapp.adapters.persistence.models.contacts import (
    AudienceMemberRow,
    AudienceRow,
    ContactRow,
    GroupParticipantRow,
    GroupRow,
)
from pywhatsapp.adapters.persistence.models.flows import FlowKeyRow, FlowRow
from pywhatsapp.adapters.persistence.models.identity import MembershipRow, TenantRow, UserRow
from pywhatsapp.adapters.persistence.models.integrations import (
    EventDeliveryAttemptRow,
    EventDeliveryRow,
    EventEndpointRow,
)
from pywhatsapp.adapters.persistence.models.media import MediaFileRow
from pywhatsapp.adapters.persistence.models.messaging import ConversationRow, MessageRow, ReactionRow
from pywhatsapp.adapters.persistence.models.qr_codes import QrCodeRow
from pywhatsapp.adapters.persistence.models.sessions import LoginAttemptRow, WebSessionRow
from pywhatsapp.adapters.persistence.models.templates import MessageTemplateRow
from pywhatsapp.adapters.persistence.models.webhooks import WebhookLogRow

__all__ = [
    "ApiKeyRow",
    "AudienceMemberRow",
    "AudienceRow",
    "CampaignRecipientRow",
    "CampaignRow",
    "ChannelRow",
    "ContactImportRow",
    "ContactRow",
    "ConversationRow",
    "EventDeliveryAttemptRow",
    "EventDeliveryRow",
    "EventEndpointRow",
    "FlowKeyRow",
    "FlowRow",
    "GroupParticipantRow",
    "GroupRow",
    "LoginAttemptRow",
    "MediaFileRow",
    "MembershipRow",
    "MessageRow",
    "MessageTemplateRow",
    "QrCodeRow",
    "ReactionRow",
    "TenantRow",
    "UserRow",
    "WebSessionRow",
    "WebhookLogRow",
]
