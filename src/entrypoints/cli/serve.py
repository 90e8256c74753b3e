"""`pywhatsapp serve`: migrate if needed, make sure the default tenant and admin exist, and serve."""

from __future__ import annotations

import os
import time

import click
import uvicorn

from pywhatsapp.adapters.metrics.prometheus import MULTIPROC_ENV, prepare_multiprocess_dir
from pywhatsapp.adapters.persistence import migrations
from pywhatsapp.entrypoints.cli.context import CliContext, console, pass_context
from pywhatsapp.entrypoints.cli.setup import sync_default_channel
from pywhatsapp.entrypoints.http.routes.sandbox import SANDBOX_PATH
from pywhatsapp.entrypoints.logging_setup import configure_logging

ASGI_APP = "pywhatsapp.entrypoints.http.asgi:app"


@click.command("serve")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Use 0.0.0.0 to listen on every interface."
)
@click.option("--port", default=8002, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@pass_context
def serve(ctx: CliContext, host: str, port: int, workers: int, reload: bool) -> None:
    """Serve the web UI, the API and the webhooks."""
    started = time.perf_counter()
    settings = ctx.settings
    if settings.sandbox:
        # The built-in simulator lives in this app at /_sandbox: the gateway calls it there and it posts
        # its webhooks back here. Workers read these from the environment.
        local = f"http://127.0.0.1:{port}"
        os.environ["GRAPH_API_URL"] = f"{local}{SANDBOX_PATH}"
        os.environ["SANDBOX_WEBHOOK_URL"] = f"{local}/webhooks"
        ctx.reload_settings()
        settings = ctx.settings
    url = ctx.database_url()
    if ctx.run(migrations.current_revision(url)) != migrations.head_revision():
        console.print("Applying database migrations…")
        migrations.upgrade(url)
    report = ctx.run(
        ctx.container.set_up_installation().execute(
            default_tenant_id=settings.DEFAULT_TENANT_ID,
            admin_username=settings.ADMIN_USERNAME,
            admin_password=settings.ADMIN_PASSWORD,
            only_if_new=True,
        )
    )
    if report.admin_created and report.admin is not None:
        console.print(
            f"Created the admin [bold]{report.admin.username}[/] with the password from ADMIN_PASSWORD"
        )
    if (done := sync_default_channel(ctx)) is not None:
        console.print(done)
    if settings.sandbox:
        console.print(
            "Try it: make a simulated customer write to you with\n"
            f"  curl -X POST http://127.0.0.1:{port}{SANDBOX_PATH}/_simulator/customers/15551234567/messages "
            '-H \'Content-Type: application/json\' -d \'{"type": "text", "text": {"body": "Hi!"}, '
            '"name": "Alice"}\''
        )
    # Workers are separate processes: hand them the database this process started (the embedded one
    # stays up as long as this process does) and the log directory that goes with it.
    os.environ["DATABASE_URL"] = url
    os.environ["PYWHATSAPP_LOG_DIR"] = str(settings.log_dir.resolve())
    if os.environ.get(MULTIPROC_ENV) or (workers > 1 and not reload):
        # Each worker counts in its own files there and /metrics, answered by any of them, adds them up.
        metrics_dir = os.environ.get(MULTIPROC_ENV) or str((settings.data_dir / "metrics").resolve())
        prepare_multiprocess_dir(metrics_dir)
        os.environ[MULTIPROC_ENV] = metrics_dir
    log_file = configure_logging(settings)
    console.print(
        f"Database ready in {time.perf_counter() - started:.1f}s. Serving http://{host}:{port}/login "
        f"(API docs at /docs; logs in {log_file})"
    )
    try:
        uvicorn.run(
            ASGI_APP,
            host=host,
            port=port,
            workers=None if reload else workers,
            reload=reload,
            log_config=None,
            proxy_headers=True,
            lifespan="on",
        )
    finally:
        ctx.close()
