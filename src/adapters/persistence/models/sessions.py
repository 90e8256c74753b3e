"""Server-side web sessions and a small key-value store (login throttling), shared by all workers.

They hold no tenant data of their own (a session names its tenant inside its payload), so they are
not tenant-scoped. Their columns come from advanced-alchemy's mixins, which register them on
advanced-alchemy's own metadata; migrations track both metadatas.
"""

from __future__ import annotations

from advanced_alchemy.extensions.litestar.session import SessionModelMixin
from advanced_alchemy.extensions.litestar.store import StoreModelMixin


class WebSessionRow(SessionModelMixin):
    __tablename__ = "web_sessions"


class KeyValueRow(StoreModelMixin):
    __tablename__ = "key_value_store"
