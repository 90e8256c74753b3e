"""Configuration: one line naming the wrong variable, production refuses defaults, .env under the env."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pywhatsapp.entrypoints.settings import DEFAULT_TENANT_ID, SettingsError, load_settings

STRONG = "s" * 32
STRONG_OTHER = "t" * 40


def refused(env: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(env, env_file=None)
    message = str(caught.value)
    assert "\n" not in message
    return message


def production(**extra: str) -> dict[str, str]:
    return {"APP_ENV": "production", **extra}


def test_defaults_without_any_configuration() -> None:
    settings = load_settings({}, env_file=None)
    assert not settings.is_production
    assert settings.uses_embedded_database
    assert settings.external_database_url is None
    assert settings.DB_PORT == 5432
    assert settings.JWT_ALGORITHM == "HS256"
    assert settings.DEFAULT_TENANT_ID == DEFAULT_TENANT_ID
    assert settings.VALIDATE_UPDATES is True


def test_non_numeric_port_names_db_port() -> None:
    message = refused({"DB_PORT": "abc"})
    assert message.startswith("DB_PORT")
    assert "abc" in message


@pytest.mark.parametrize("port", ["0", "65536", "-5"])
def test_port_out_of_range_names_db_port(port: str) -> None:
    assert refused({"DB_PORT": port}).startswith("DB_PORT")


def test_unknown_jwt_algorithm_names_jwt_algorithm() -> None:
    message = refused({"JWT_ALGORITHM": "RS999"})
    assert message.startswith("JWT_ALGORITHM")
    assert "RS999" in message
    assert "HS256" in message  # says what would be accepted


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("APP_ENV", "staging"),
        ("LOG_LEVEL", "LOUD"),
        ("DEFAULT_TENANT_ID", "not-a-uuid"),
        ("JWT_ACCESS_TOKEN_LIFETIME_MINUTES", "0"),
        ("PASSWORD_HASH_ROUNDS", "3"),
        ("MESSAGE_BUFFER", "-1"),
        ("GRAPH_API_URL", "graph.facebook.com"),
        ("VALIDATE_UPDATES", "maybe"),
    ],
)
def test_each_wrong_value_is_named_in_one_line(name: str, value: str) -> None:
    assert refused({name: value}).startswith(name)


def test_production_with_default_secrets_names_session_secret_key() -> None:
    assert refused(production()).startswith("SESSION_SECRET_KEY")


def test_production_with_a_short_session_secret_is_refused() -> None:
    message = refused(production(SESSION_SECRET_KEY="tiny-secret-value", JWT_SECRET_KEY=STRONG))
    assert message.startswith("SESSION_SECRET_KEY")
    assert "tiny-secret-value" not in message  # a secret is never printed


def test_production_with_default_jwt_secret_names_jwt_secret_key() -> None:
    assert refused(production(SESSION_SECRET_KEY=STRONG)).startswith("JWT_SECRET_KEY")


def test_production_with_strong_secrets_but_default_admin_password_names_admin_password() -> None:
    message = refused(production(SESSION_SECRET_KEY=STRONG, JWT_SECRET_KEY=STRONG_OTHER))
    assert message.startswith("ADMIN_PASSWORD")


def test_production_with_everything_set_starts() -> None:
    settings = load_settings(
        production(SESSION_SECRET_KEY=STRONG, JWT_SECRET_KEY=STRONG_OTHER, ADMIN_PASSWORD="a-real-password"),
        env_file=None,
    )
    assert settings.is_production


def test_development_accepts_the_default_secrets() -> None:
    assert not load_settings({"APP_ENV": "development"}, env_file=None).is_production


def test_database_url_wins_over_db_parts() -> None:
    settings = load_settings(
        {"DATABASE_URL": "postgresql://u:p@db:5432/app", "DB_HOST": "other", "DB_NAME": "x"}, env_file=None
    )
    assert settings.external_database_url == "postgresql://u:p@db:5432/app"
    assert not settings.uses_embedded_database


def test_db_parts_build_a_postgresql_url_with_the_password_quoted() -> None:
    settings = load_settings(
        {
            "DB_USER": "wa user",
            "DB_PASSWORD": "p@ss:w/rd%#",
            "DB_HOST": "db.example",
            "DB_PORT": "6543",
            "DB_NAME": "whatsapp",
        },
        env_file=None,
    )
    assert (
        settings.external_database_url
        == "postgresql://wa%20user:p%40ss%3Aw%2Frd%25%23@db.example:6543/whatsapp"
    )
    assert not settings.uses_embedded_database


def test_db_parts_fill_in_defaults() -> None:
    settings = load_settings({"DB_NAME": "chat"}, env_file=None)
    assert settings.external_database_url == "postgresql://postgres@localhost:5432/chat"


@given(st.text(min_size=1, max_size=40))
def test_any_db_password_survives_the_url(password: str) -> None:
    settings = load_settings({"DB_HOST": "db", "DB_PASSWORD": password}, env_file=None)
    url = settings.external_database_url
    assert url is not None
    parts = urlsplit(url)
    assert parts.hostname == "db"
    assert parts.password is not None
    assert unquote(parts.password) == password


def test_neither_database_url_nor_parts_uses_the_embedded_database() -> None:
    settings = load_settings({"DB_PORT": "5433"}, env_file=None)
    assert settings.uses_embedded_database
    assert settings.external_database_url is None


def test_a_password_alone_still_means_an_external_database() -> None:
    settings = load_settings({"DB_PASSWORD": "only-a-password"}, env_file=None)
    assert not settings.uses_embedded_database
    assert settings.external_database_url == "postgresql://postgres:only-a-password@localhost:5432/whatspy_db"


def test_an_ipv6_host_is_bracketed_and_garbage_urls_are_named() -> None:
    settings = load_settings({"DB_HOST": "::1", "DB_NAME": "app"}, env_file=None)
    assert settings.external_database_url == "postgresql://postgres@[::1]:5432/app"
    with pytest.raises(SettingsError, match=r"^DATABASE_URL: not a database URL"):
        load_settings({"DATABASE_URL": "garbage"}, env_file=None)
    with pytest.raises(SettingsError, match=r"^DATABASE_URL: PyWhatsApp needs PostgreSQL"):
        load_settings({"DATABASE_URL": "mysql://root@localhost/db"}, env_file=None)
    with pytest.raises(SettingsError, match=r"^JWT_ACCESS_TOKEN_LIFETIME_MINUTES"):
        load_settings({"JWT_ACCESS_TOKEN_LIFETIME_MINUTES": "99999999999"}, env_file=None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("false", False),
        ("FALSE", False),
        ("0", False),
        ("no", False),
        ("off", False),
        ("true", True),
        ("1", True),
        ("Yes", True),
    ],
)
def test_validate_updates_is_parsed_as_a_boolean(raw: str, expected: bool) -> None:
    assert load_settings({"VALIDATE_UPDATES": raw}, env_file=None).VALIDATE_UPDATES is expected


def test_env_file_is_read_and_the_environment_overrides_it(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "DB_HOST=file-host\nDB_NAME=file-db\nLOG_LEVEL=DEBUG\nVALIDATE_UPDATES=false\nNOT_A_SETTING=1\n"
    )
    settings = load_settings({"DB_HOST": "env-host", "LOG_LEVEL": "ERROR"}, env_file=env_file)

    assert settings.DB_HOST == "env-host"
    assert settings.LOG_LEVEL == "ERROR"
    assert settings.DB_NAME == "file-db"
    assert settings.VALIDATE_UPDATES is False
    assert settings.external_database_url == "postgresql://postgres@env-host:5432/file-db"


def test_an_empty_environment_value_does_not_erase_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DB_NAME=file-db\n")
    assert load_settings({"DB_NAME": ""}, env_file=env_file).DB_NAME == "file-db"


def test_a_wrong_value_in_the_env_file_is_named_too(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DB_PORT=fivefour\n")
    with pytest.raises(SettingsError, match=r"^DB_PORT"):
        load_settings({}, env_file=env_file)


def test_a_missing_env_file_is_fine(tmp_path: Path) -> None:
    assert load_settings({}, env_file=tmp_path / "absent.env").uses_embedded_database
