"""What can go wrong with flows at Meta and at the data endpoint."""

from __future__ import annotations

from pywhatsapp.domain.errors import DomainError, InvalidInput


class FlowRefused(InvalidInput):
    """Meta refused a flow operation (a duplicate name, publishing with errors, deleting a published
    flow...); its words kept."""

    def __init__(self, code: int, detail: str, *, subcode: int | None = None) -> None:
        super().__init__(f"Meta refused the flow operation: ({code}) {detail}")
        self.code = code
        self.subcode = subcode


class FlowRequestUnreadable(DomainError):
    """A data-exchange request that the tenant's private key cannot decrypt (or there is no key).

    Meta documents HTTP 421 for it: the WhatsApp client then fetches the business public key again."""


class FlowRequestSignatureInvalid(DomainError):
    """A data-exchange request whose `X-Hub-Signature-256` does not match (Meta documents HTTP 432)."""
