"""What can go wrong when Meta is asked about templates."""

from __future__ import annotations

from pywhatsapp.domain.errors import Conflict, DomainError, InvalidInput


class TemplateRefused(InvalidInput):
    """Meta refused a template operation (a duplicate name, an invalid component...); its words kept."""

    def __init__(self, code: int, detail: str, *, subcode: int | None = None) -> None:
        super().__init__(f"Meta refused the template: ({code}) {detail}")
        self.code = code
        self.subcode = subcode


class MetaUnreachable(DomainError):
    """Meta did not answer (timeout, connection lost); nothing is known to have changed there."""

    def __init__(self, operation: str) -> None:
        super().__init__(f"Meta did not answer ({operation}); try again shortly")


class TemplateNotSendable(Conflict):
    """The stored template exists but Meta would not send it (not approved, paused, deleted...)."""

    def __init__(self, name: str, language: str, status: str) -> None:
        super().__init__(
            f"The template {name!r} ({language}) is {status} at Meta, not APPROVED, so it cannot be sent"
            + (" yet; wait for Meta's review" if status in ("PENDING", "IN_APPEAL") else "")
        )
        self.status = status
