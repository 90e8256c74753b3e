"""`pywhatsapp simulator`: the Cloud API simulator on its own, for development against a running app."""

from __future__ import annotations

import click

from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings, run_simulator
from pywhatsapp.entrypoints.cli.context import console, run_event_loop


@click.command("simulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8181, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--webhook-url",
    default="http://127.0.0.1:8002/webhooks",
    show_default=True,
    help="Where signed webhooks go (the app's /webhooks).",
)
@click.option("--app-secret", envvar="FB_APP_SECRET", help="Signs webhooks (default: FB_APP_SECRET).")
@click.option("--phone-number-id", default="1122334455667", show_default=True)
@click.option(
    "--latency", default=0.0, show_default=True, type=click.FloatRange(0, 60), help="Seconds per send answer."
)
def simulator(
    host: str, port: int, webhook_url: str, app_secret: str | None, phone_number_id: str, latency: float
) -> None:
    """Serve a Graph API look-alike: sends get wamids and signed sent/delivered/read webhooks.

    Point the app at it with GRAPH_API_URL=http://HOST:PORT. Make a customer write with
    POST /_simulator/customers/<number>/messages; inject faults with POST /_simulator/faults.
    """
    console.print(f"Cloud API simulator on http://{host}:{port} → webhooks to {webhook_url}")
    settings = SimulatorSettings(
        webhook_url=webhook_url or None,
        app_secret=app_secret,
        phone_number_id=phone_number_id,
        response_latency=latency,
    )
    run_event_loop(run_simulator(host, port, settings))
