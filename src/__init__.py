"""PyWhatsApp: a self-hosted, multi-tenant WhatsApp Business platform on Meta's Cloud API."""

__version__ = "0.1.0"
