"""All configuration, read once from the environment and a `.env` file, with the seed's variable names.

A wrong value stops start-up with one line that names the variable; production refuses default secrets.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Literal, get_args, get_type_hints
from urllib.parse import quote
from uuid import UUID

import msgspec
import phonenumbers
from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_SESSION_SECRET = "change-this-secret-key-in-production"
DEFAULT_JWT_SECRET = "your-jwt-secret-key"
DEFAULT_ADMIN_PASSWORD = "admin@123"
MIN_PRODUCTION_HASH_ROUNDS = 10
DEFAULT_TENANT_ID = UUID("bc531d42-ac91-41df-817e-26c339af6b3a")
MAX_TOKEN_LIFETIME_MINUTES = 525_600
MEDIA_STORAGE_SCHEMES = frozenset({"file", "s3", "s3a", "gs", "az", "azure", "abfs", "memory"})


class SettingsError(ValueError):
    """One line naming the variable that is wrong and what it should be."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # Database: DATABASE_URL, or the DB_* parts; with neither, the embedded PostgreSQL.
    DATABASE_URL: str | None = None
    DB_USER: str | None = None
    DB_PASSWORD: str | None = None
    DB_HOST: str | None = None
    DB_PORT: int = 5432
    DB_NAME: str | None = None
    PYWHATSAPP_DATA_DIR: str = ".pywhatsapp"
    PYWHATSAPP_LOG_DIR: str | None = None
    # WhatsApp (the default tenant's channel)
    WHATSAPP_PHONE_ID: str | None = None
    WHATSAPP_TOKEN: str | None = None
    WHATSAPP_WABA_ID: str | None = None
    VERIFY_TOKEN: str | None = None
    CALLBACK_URL: str | None = None
    FB_APP_ID: str | None = None
    FB_APP_SECRET: str | None = None
    VALIDATE_UPDATES: bool = True
    OPT_OUT_KEYWORDS: str | None = None
    OPT_IN_KEYWORDS: str | None = None
    MESSAGE_BUFFER: int = 200
    GRAPH_API_URL: str = "https://graph.facebook.com"
    SANDBOX_WEBHOOK_URL: str | None = None
    """Set by `pywhatsapp serve` in sandbox mode: where the built-in simulator delivers its webhooks."""
    # Authentication
    ADMIN_USERNAME: str = "admin"
    ADMIN_PASSWORD: str = DEFAULT_ADMIN_PASSWORD
    SESSION_SECRET_KEY: str = DEFAULT_SESSION_SECRET
    JWT_SECRET_KEY: str = DEFAULT_JWT_SECRET
    JWT_ALGORITHM: Literal["HS256", "HS384", "HS512"] = "HS256"
    JWT_ACCESS_TOKEN_LIFETIME_MINUTES: int = 60
    ENCRYPTION_KEY: str | None = None
    PASSWORD_HASH_ROUNDS: int = 12
    # Tenancy
    DEFAULT_TENANT_ID: UUID = DEFAULT_TENANT_ID
    # Inbound media: where downloaded files go (default: PYWHATSAPP_DATA_DIR/media) and how downloads retry
    MEDIA_STORAGE_URL: str | None = None
    MEDIA_S3_ENDPOINT: str | None = None
    MEDIA_S3_REGION: str | None = None
    MEDIA_S3_ACCESS_KEY_ID: str | None = None
    MEDIA_S3_SECRET_ACCESS_KEY: str | None = None
    MEDIA_DOWNLOAD_ATTEMPTS: int = 12
    MEDIA_RETRY_SECONDS: float = 10.0
    # Campaigns: whether `serve` runs the sender too (else only `pywhatsapp worker` does), and how long a
    # send whose answer was lost waits for its status webhook before it is tried again
    CAMPAIGN_SENDER_IN_SERVE: bool = True
    MEDIA_DOWNLOADS_IN_SERVE: bool = True
    """Whether `serve` workers download inbound media too (else only `pywhatsapp worker` does)."""
    CAMPAIGN_RECONCILE_SECONDS: float = 120.0
    # Contacts: the region of numbers written without a country code (ISO 3166 code, e.g. US, GB, DE, IN),
    # and how many CSV rows an import stores per transaction; an import whose process died is resumed by
    # another once its lease (renewed with every batch) runs out
    DEFAULT_PHONE_REGION: str = "US"
    CONTACT_IMPORT_BATCH_SIZE: int = 500
    CONTACT_IMPORT_LEASE_SECONDS: float = 60.0
    # Event webhooks: whether their URLs may point at loopback, private or link-local addresses (refused by
    # default so that a tenant cannot make the server call into its own network)
    EVENT_WEBHOOKS_ALLOW_PRIVATE: bool = False
    # Metrics: with a token, `/metrics` answers only `Authorization: Bearer <METRICS_TOKEN>` (else it is open;
    # keep it off the public side of the proxy)
    METRICS_TOKEN: str | None = None
    # Running
    APP_ENV: Literal["development", "production"] = "development"
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @property
    def is_production(self) -> bool:
        return self.APP_ENV == "production"

    @property
    def sandbox(self) -> bool:
        """No WhatsApp token configured (and not production): the Cloud API simulator stands in for Meta."""
        return not self.WHATSAPP_TOKEN and not self.is_production

    @property
    def sandbox_app_secret(self) -> str:
        return hashlib.sha256(b"pywhatsapp-sandbox:" + self.SESSION_SECRET_KEY.encode()).hexdigest()

    @property
    def uses_embedded_database(self) -> bool:
        return self.external_database_url is None

    @property
    def external_database_url(self) -> str | None:
        if self.DATABASE_URL:
            return self.DATABASE_URL
        if self.DB_HOST or self.DB_NAME or self.DB_USER or self.DB_PASSWORD:
            credentials = quote(self.DB_USER or "postgres", safe="")
            if self.DB_PASSWORD:
                credentials += ":" + quote(self.DB_PASSWORD, safe="")
            host = self.DB_HOST or "localhost"
            host = f"[{host}]" if ":" in host and not host.startswith("[") else host  # IPv6
            host = f"{host}:{self.DB_PORT}"
            return f"postgresql://{credentials}@{host}/{self.DB_NAME or 'whatspy_db'}"
        return None

    @property
    def data_dir(self) -> Path:
        return Path(self.PYWHATSAPP_DATA_DIR)

    @property
    def media_storage_url(self) -> str:
        """MEDIA_STORAGE_URL, or a local directory under the data dir (a bare path means a directory)."""
        url = self.MEDIA_STORAGE_URL or str(self.data_dir / "media")
        if "://" not in url:
            return "file://" + str(Path(url).resolve())
        return url

    @property
    def media_storage_options(self) -> dict[str, str]:
        """Settings for S3-compatible storage (MinIO, R2, ...), in obstore's names."""
        options = {
            "endpoint": self.MEDIA_S3_ENDPOINT,
            "region": self.MEDIA_S3_REGION,
            "access_key_id": self.MEDIA_S3_ACCESS_KEY_ID,
            "secret_access_key": self.MEDIA_S3_SECRET_ACCESS_KEY,
        }
        return {key: value for key, value in options.items() if value}

    @property
    def log_dir(self) -> Path:
        if self.PYWHATSAPP_LOG_DIR:
            return Path(self.PYWHATSAPP_LOG_DIR)
        return self.data_dir / "logs" if self.uses_embedded_database else Path("logs")

    @property
    def secrets_encryption_key(self) -> str:
        """Key for tenant secrets at rest; derived from SESSION_SECRET_KEY unless ENCRYPTION_KEY is set."""
        source = self.ENCRYPTION_KEY or self.SESSION_SECRET_KEY
        return hashlib.sha256(b"pywhatsapp-secrets:" + source.encode()).hexdigest()


_TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "str": "text",
    "uuid": "a UUID",
}


def _explain(error: msgspec.ValidationError, raw: dict[str, Any]) -> str:
    text = str(error)
    name = text.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in text else "configuration"
    reason = text.split(" - at ")[0]
    for word, plain in _TYPE_WORDS.items():
        reason = reason.replace(f"`{word}`", plain)
    value = raw.get(name)
    secret = name.endswith(("SECRET", "SECRET_KEY", "PASSWORD", "TOKEN", "ENCRYPTION_KEY"))
    shown = "" if value is None or secret else f" (got {value!r})"
    choices = get_args(get_type_hints(Settings).get(name, ""))
    if "enum value" in reason and choices:
        reason = "must be one of " + ", ".join(choices)
    return f"{name}: {reason}{shown}"


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce_bools(raw: dict[str, Any]) -> dict[str, Any]:
    fixed = dict(raw)
    for name in ("VALIDATE_UPDATES",):
        value = fixed.get(name)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            fixed[name] = value.strip().lower() in _TRUE
    return fixed


def load_settings(env: dict[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
    """Settings from `.env` overlaid by the process environment (the environment wins)."""
    names = set(Settings.__struct_fields__)
    raw: dict[str, Any] = {}
    if env_file is not None and env_file.is_file():
        raw.update({k: v for k, v in dotenv_values(env_file).items() if k in names and v not in (None, "")})
    source = os.environ if env is None else env
    raw.update({k: v for k, v in source.items() if k in names and v != ""})
    raw = _coerce_bools(raw)
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as error:
        raise SettingsError(_explain(error, raw)) from None
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    if not 1 <= settings.DB_PORT <= 65535:
        raise SettingsError(f"DB_PORT: must be a port number between 1 and 65535 (got {settings.DB_PORT})")
    if not 1 <= settings.JWT_ACCESS_TOKEN_LIFETIME_MINUTES <= MAX_TOKEN_LIFETIME_MINUTES:
        raise SettingsError(
            f"JWT_ACCESS_TOKEN_LIFETIME_MINUTES: must be between 1 and {MAX_TOKEN_LIFETIME_MINUTES} (a year)"
        )
    if settings.external_database_url:
        try:
            url = make_url(settings.external_database_url)
        except ArgumentError:
            name = "DATABASE_URL" if settings.DATABASE_URL else "DB_HOST"
            raise SettingsError(
                f"{name}: not a database URL; expected postgresql://user:password@host:5432/dbname"
            ) from None
        if not url.drivername.startswith(("postgresql", "postgres")):
            raise SettingsError(f"DATABASE_URL: PyWhatsApp needs PostgreSQL, not {url.drivername}")
    if not 4 <= settings.PASSWORD_HASH_ROUNDS <= 16:
        raise SettingsError("PASSWORD_HASH_ROUNDS: must be between 4 and 16 (bcrypt cost; 12 is the default)")
    if settings.MESSAGE_BUFFER < 0:
        raise SettingsError("MESSAGE_BUFFER: must not be negative")
    if settings.DEFAULT_PHONE_REGION.strip().upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingsError(
            "DEFAULT_PHONE_REGION: must be a two-letter region code such as US, GB, DE or IN "
            f"(got {settings.DEFAULT_PHONE_REGION!r})"
        )
    if not 1 <= settings.CONTACT_IMPORT_BATCH_SIZE <= 10_000:
        raise SettingsError("CONTACT_IMPORT_BATCH_SIZE: must be between 1 and 10000")
    if not 1 <= settings.CONTACT_IMPORT_LEASE_SECONDS <= 86_400:
        raise SettingsError("CONTACT_IMPORT_LEASE_SECONDS: must be between 1 and 86400")
    if not settings.GRAPH_API_URL.startswith(("http://", "https://")):
        raise SettingsError(
            f"GRAPH_API_URL: must start with http:// or https:// (got {settings.GRAPH_API_URL!r})"
        )
    scheme = settings.media_storage_url.split("://", 1)[0].lower()
    if scheme not in MEDIA_STORAGE_SCHEMES:
        raise SettingsError(
            "MEDIA_STORAGE_URL: must be a directory or a file://, s3://, gs://, az:// or memory:// URL "
            f"(got {settings.MEDIA_STORAGE_URL!r})"
        )
    if settings.MEDIA_DOWNLOAD_ATTEMPTS < 1:
        raise SettingsError("MEDIA_DOWNLOAD_ATTEMPTS: must be at least 1")
    if not 0 < settings.MEDIA_RETRY_SECONDS <= 86_400:
        raise SettingsError("MEDIA_RETRY_SECONDS: must be more than 0 and at most 86400 (a day)")
    if settings.is_production:
        for name, default in (
            ("SESSION_SECRET_KEY", DEFAULT_SESSION_SECRET),
            ("JWT_SECRET_KEY", DEFAULT_JWT_SECRET),
        ):
            value = getattr(settings, name)
            if not value or value == default or len(value) < 32:
                raise SettingsError(
                    f"{name}: APP_ENV=production needs a secret of at least 32 characters, not the default "
                    "(generate one with: openssl rand -hex 32)"
                )
        if settings.ADMIN_PASSWORD == DEFAULT_ADMIN_PASSWORD:
            raise SettingsError(
                "ADMIN_PASSWORD: APP_ENV=production refuses the default admin password; set your own"
            )
        if settings.PASSWORD_HASH_ROUNDS < MIN_PRODUCTION_HASH_ROUNDS:
            raise SettingsError(
                f"PASSWORD_HASH_ROUNDS: APP_ENV=production needs a bcrypt cost of at least "
                f"{MIN_PRODUCTION_HASH_ROUNDS} (12 is the default); lower costs are for tests only"
            )
