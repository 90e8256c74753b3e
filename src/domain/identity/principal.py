"""Who is acting, in which tenant, with which role: what every authenticated request carries."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from pywhatsapp.domain.errors import PermissionDenied
from pywhatsapp.domain.tenancy.membership import Role


@dataclass(frozen=True)
class Principal:
    user_id: UUID
    username: str
    tenant_id: UUID
    tenant_slug: str
    tenant_name: str
    role: Role
    api_key_id: UUID | None = None
    """Set when a tenant API key (not a person) is acting; `user_id` is then the key's id."""

    def require(self, role: Role) -> None:
        if not self.role.allows(role):
            raise PermissionDenied(
                f"This needs the {role.value} role; you are {self.role.value} in this tenant"
            )
