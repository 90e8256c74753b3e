"""How the Cloud API simulator behaves: where its webhooks go, how they are signed, how fast statuses flow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SimulatorSettings:
    webhook_url: str | None = None
    """Where signed webhooks are POSTed (statuses, customer messages, template reviews); None sends none."""
    app_secret: str | None = None
    """HMAC-SHA256 key for `X-Hub-Signature-256: sha256=<hexdigest of the raw body>`; None leaves it off."""
    phone_number_id: str = "1122334455667"
    """The default business phone number (customer messages arrive on it unless told otherwise)."""
    display_phone_number: str = "15550001111"
    waba_id: str = "1234567890987654321"
    verified_name: str = "PyWhatsApp Simulator"
    """The business name shown for the phone numbers and the WABA."""
    status_delays: tuple[float, float, float] = (0.05, 0.1, 0.15)
    """Seconds after a send at which its sent, delivered and read statuses are POSTed."""
    auto_read: bool = True
    """Whether the simulated customer reads what is sent (the `read` status)."""
    valid_tokens: frozenset[str] | None = None
    """Bearer tokens the Graph API accepts; None accepts any non-empty token."""
    phone_numbers: Mapping[str, str] = field(default_factory=dict)
    """Display numbers of further phone number ids (any phone id is accepted; unknown ones show
    `display_phone_number`)."""
    verify_token: str | None = None
    """The `hub.verify_token` that POST /_simulator/verify sends, as Meta does when a webhook is set up."""
    public_url: str | None = None
    """This server's URL as clients reach it, for media download URLs; None uses the request's own."""
    webhook_max_attempts: int = 4
    """Attempts per webhook when the receiver fails or answers 5xx/408/429 (Meta retries too)."""
    webhook_retry_delay: float = 0.1
    """Seconds before the first retry; doubled before each next one."""
    webhook_timeout: float = 10.0
    response_latency: float = 0.0
    """Seconds every send waits before its answer, as Meta's round trip would (benchmarks use 0.1)."""
    template_review_delay: float | None = 0.2
    """Seconds until a created template is APPROVED (with a status webhook); None leaves it PENDING."""

    def display_number_for(self, phone_number_id: str) -> str:
        return self.phone_numbers.get(phone_number_id, self.display_phone_number)

    @property
    def known_phone_ids(self) -> list[str]:
        return [self.phone_number_id, *(p for p in self.phone_numbers if p != self.phone_number_id)]
