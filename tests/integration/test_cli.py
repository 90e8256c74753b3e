"""The `pywhatsapp` command as an operator uses it, on real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pywhatsapp.adapters.persistence import migrations
from pywhatsapp.entrypoints.cli.main import cli

pytestmark = pytest.mark.postgres


@pytest.fixture
def run(empty_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout

    def invoke(*args: str, input: str | None = None, **env: str) -> Result:
        environment = {
            "DATABASE_URL": empty_database,
            "PASSWORD_HASH_ROUNDS": "4",
            "ADMIN_USERNAME": "admin",
            "ADMIN_PASSWORD": "admin@123",
            **env,
        }
        return CliRunner().invoke(cli, list(args), env=environment, input=input, catch_exceptions=False)

    return invoke


def test_setup_creates_the_schema_the_default_tenant_and_the_admin(run) -> None:  # type: ignore[no-untyped-def]
    result = run("setup")
    assert result.exit_code == 0, result.output
    assert "SETUP COMPLETED SUCCESSFULLY" in result.output
    assert "Username: admin" in result.output and "Password: admin@123" in result.output
    assert "Tenant ID: default (bc531d42-ac91-41df-817e-26c339af6b3a)" in result.output
    for table in ("tenants", "users", "memberships", "messages", "campaign_recipients", "webhook_logs"):
        assert table in result.output

    listed = run("tenant", "list")
    assert "default" in listed.output and "bc531d42-ac91-41df-817e-26c339af6b3a" in listed.output


def test_setup_run_twice_is_harmless(run) -> None:  # type: ignore[no-untyped-def]
    assert run("setup").exit_code == 0
    assert run("tenant", "create", "--name", "Acme", "--slug", "acme").exit_code == 0
    again = run("setup", ADMIN_PASSWORD="a-different-password")
    assert again.exit_code == 0, again.output
    assert "tenant 'default': already there" in again.output
    assert "admin 'admin': already there" in again.output
    assert "Password: (unchanged" in again.output
    assert "acme" in run("tenant", "list").output
    # The admin's password was not replaced by the second run's ADMIN_PASSWORD.
    duplicate = run("create-admin", "--username", "admin", "--password", "whatever-123")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output


def test_setup_fresh_wipes_everything_after_confirmation(run) -> None:  # type: ignore[no-untyped-def]
    assert run("setup").exit_code == 0
    assert run("tenant", "create", "--name", "Acme", "--slug", "acme").exit_code == 0

    declined = run("setup", "--fresh", input="n\n")
    assert declined.exit_code != 0
    assert "acme" in run("tenant", "list").output, "declining keeps the data"

    wiped = run("setup", "--fresh", "--yes")
    assert wiped.exit_code == 0, wiped.output
    assert "Dropping every table" in wiped.output
    assert "tenant 'default': created" in wiped.output
    assert "acme" not in run("tenant", "list").output


def test_reset_needs_yes_or_a_confirmation(run) -> None:  # type: ignore[no-untyped-def]
    assert run("setup").exit_code == 0
    run("tenant", "create", "--name", "Acme", "--slug", "acme")
    cancelled = run("reset", input="n\n")
    assert cancelled.exit_code == 1 and "nothing was changed" in cancelled.output
    assert "acme" in run("tenant", "list").output
    done = run("reset", "--yes")
    assert done.exit_code == 0 and "SETUP COMPLETED SUCCESSFULLY" in done.output
    assert "acme" not in run("tenant", "list").output


def test_db_commands_move_between_revisions(run) -> None:  # type: ignore[no-untyped-def]
    head = migrations.head_revision()
    before_head = f"{int(str(head)) - 1:04d}"
    assert head is not None and head in run("db", "history").output
    assert "base (empty)" in run("db", "current").output
    assert run("db", "upgrade").exit_code == 0
    assert f"{head} (up to date)" in run("db", "current").output
    assert run("db", "downgrade", "--yes").exit_code == 0
    assert f"{before_head} (behind head {head}" in run("db", "current").output
    assert run("db", "upgrade", "head").exit_code == 0
    assert "up to date" in run("db", "current").output


def test_create_admin_adds_a_user_with_a_role_in_a_tenant(run) -> None:  # type: ignore[no-untyped-def]
    assert run("setup").exit_code == 0
    assert run("tenant", "create", "--name", "Acme", "--slug", "acme").exit_code == 0
    created = run(
        "create-admin",
        "--username",
        "maria",
        "--tenant",
        "acme",
        "--role",
        "agent",
        input="s3cret-pass\ns3cret-pass\n",
    )
    assert created.exit_code == 0, created.output
    assert "Created maria (agent) in tenant acme" in created.output
    unknown = run("create-admin", "--username", "joe", "--password", "long-enough-1", "--tenant", "nope")
    assert unknown.exit_code == 1 and "no tenant 'nope'" in unknown.output
    short = run("create-admin", "--username", "kim", "--password", "short")
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    duplicate_slug = run("tenant", "create", "--name", "Acme 2", "--slug", "acme")
    assert duplicate_slug.exit_code == 1 and "already exists" in duplicate_slug.output
    bad_slug = run("tenant", "create", "--name", "Bad", "--slug", "Not A Slug")
    assert bad_slug.exit_code == 1 and "Invalid tenant slug" in bad_slug.output


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DB_PORT", "abc"), ("JWT_ALGORITHM", "RS999"), ("JWT_ACCESS_TOKEN_LIFETIME_MINUTES", "soon")],
)
def test_a_wrong_setting_stops_with_one_line_naming_it(run, variable: str, value: str) -> None:  # type: ignore[no-untyped-def]
    result = run("setup", **{variable: value})
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and variable in lines[0]


def test_production_refuses_default_secrets(run) -> None:  # type: ignore[no-untyped-def]
    result = run("setup", APP_ENV="production")
    assert result.exit_code == 2 and "SESSION_SECRET_KEY" in result.output


def test_an_unreachable_database_is_explained(run) -> None:  # type: ignore[no-untyped-def]
    result = run("setup", DATABASE_URL="postgresql://postgres@127.0.0.1:1/nowhere")
    assert result.exit_code == 1
    assert "Cannot reach PostgreSQL" in result.output
    assert "127.0.0.1:1" in result.output and "DATABASE_URL" in result.output
