"""Campaign throughput: a campaign of 20,000 recipients sent by the real CampaignSender (PyWA's async
client, PostgreSQL claims and results) to the Cloud API simulator in its own process, answering every send
after 100 ms, at the channel caps of 80 and 1,000 per second. The simulator timestamps every send when it
arrives; from those the figures are computed where Meta would count them:

    achieved sends per second, the most sends in any one-second window, and both as a ratio of the cap.

Target: never above the cap in any window; at least 95 % of it at 1,000/s.

Run: python benchmarks/campaign_throughput.py [--recipients 20000] [--caps 80,1000] [--latency 0.1]
Uses TEST_DATABASE_URL's server (a fresh database is created and dropped), else an embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.postgres import create_database, drop_database, server_url  # noqa: E402
from tests.support.processes import free_port  # noqa: E402

from pywhatsapp.adapters.persistence import migrations  # noqa: E402
from pywhatsapp.application.campaigns.send_campaigns import SenderSettings  # noqa: E402
from pywhatsapp.domain.campaigns.campaign import Campaign, CampaignRecipient, CampaignStatus  # noqa: E402
from pywhatsapp.domain.channels.channel import Channel  # noqa: E402
from pywhatsapp.domain.tenancy.tenant import Tenant  # noqa: E402
from pywhatsapp.entrypoints.cli.context import run_event_loop  # noqa: E402
from pywhatsapp.entrypoints.container import build_container  # noqa: E402
from pywhatsapp.entrypoints.settings import load_settings  # noqa: E402

PHONE_ID = "1122334455667"


def max_in_any_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, left = 0, 0
    for right, at in enumerate(times):
        while times[left] <= at - window:
            left += 1
        best = max(best, right - left + 1)
    return best


async def run_campaign(url: str, sim_url: str, recipients: int, cap: int) -> dict[str, float]:
    env = {
        "DATABASE_URL": url,
        "GRAPH_API_URL": sim_url,
        "LOG_LEVEL": "WARNING",
        "CAMPAIGN_RECONCILE_SECONDS": "600",
    }
    container = build_container(load_settings(env, env_file=None))
    container.init_resources()
    uow_factory = container.uow_factory()
    tenant = Tenant(id=uuid.uuid4(), name=f"Bench {cap}", slug=f"bench-{cap}-{uuid.uuid4().hex[:6]}")
    async with uow_factory() as uow:
        await uow.tenants.add(tenant)
        await uow.commit()
    async with uow_factory(tenant.id) as uow:
        # One phone number per tenant is a unique key: the previous run's channel is renamed away.
        channel = await uow.channels.add(
            Channel(
                tenant_id=tenant.id,
                phone_number_id=f"{PHONE_ID}{cap}",
                access_token="bench-token",
                messages_per_second=cap,
            )
        )
        campaign = await uow.campaigns.add(
            Campaign(
                tenant_id=tenant.id,
                name="Benchmark",
                channel_id=channel.id,
                template_name="promo",
                language="en",
            )
        )
        await uow.campaign_recipients.add_many(
            [
                CampaignRecipient(tenant_id=tenant.id, campaign_id=campaign.id, wa_id=f"4915{cap:04d}{i:07d}")
                for i in range(recipients)
            ]
        )
        campaign.status = CampaignStatus.RUNNING
        await uow.campaigns.update(campaign)
        await uow.commit()

    sender = container.campaign_sender()
    sender._settings = SenderSettings(reconcile_seconds=600)
    started = time.perf_counter()
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    while True:
        await asyncio.sleep(0.5)
        async with uow_factory(tenant.id) as uow:
            current = await uow.campaigns.get(campaign.id)
        if current is not None and current.status is CampaignStatus.COMPLETED:
            break
        if time.perf_counter() - started > recipients / cap * 3 + 120:
            raise SystemExit(f"cap {cap}: not completed in time")
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    await container.gateway().close()
    await container.engine().dispose()
    container.shutdown_resources()

    async with httpx.AsyncClient(timeout=120) as http:
        sent = (await http.get(f"{sim_url}/_simulator/sent")).json()
    times = [m["received_at"] for m in sent if m["phone_number_id"] == f"{PHONE_ID}{cap}"]
    per_number: dict[str, int] = {}
    for m in sent:
        per_number[m["wa_id"]] = per_number.get(m["wa_id"], 0) + 1
    span = max(times) - min(times)
    achieved = (len(times) - 1) / span if span > 0 else float(len(times))
    peak = max_in_any_window(times)
    if os.environ.get("BENCH_DUMP"):  # the arrival times, one per line, to look at bursts
        dump = Path(os.environ["BENCH_DUMP"])
        await asyncio.to_thread(dump.write_text, "\n".join(str(t) for t in sorted(times)))
    return {
        "cap": cap,
        "sent": len(times),
        "twice": sum(1 for n in per_number.values() if n > 1),
        "seconds": round(elapsed, 1),
        "achieved_per_second": round(achieved, 1),
        "max_in_any_second": peak,
        "achieved_ratio": round(achieved / cap, 3),
        "peak_ratio": round(peak / cap, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--caps", default="80,1000")
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="pywhatsapp-bench-pg-"))
    root.chmod(0o755)
    server, embedded = (
        server_url(root)
        if not os.environ.get("TEST_DATABASE_URL")
        else (
            os.environ["TEST_DATABASE_URL"],
            None,
        )
    )
    url = create_database(server, prefix="pywhatsapp_bench")
    migrations.upgrade(url)
    port = free_port()
    # The simulator keeps every send in memory; with the garbage collector on, its full collections pause
    # it for 100 ms and more, and the sends that arrive meanwhile get one timestamp (seen: 10 at once).
    # Off, its clock readings are the arrival times they should be.
    no_gc = "import gc, sys; gc.disable(); from pywhatsapp.entrypoints.cli.main import cli; sys.exit(cli())"
    simulator = subprocess.Popen(
        [
            sys.executable,
            "-c",
            no_gc,
            "simulator",
            "--port",
            str(port),
            "--webhook-url",
            "",
            "--latency",
            str(args.latency),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sim_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{sim_url}/_simulator/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        print(
            f"{args.recipients} recipients per campaign, simulator answers after {args.latency * 1000:.0f} ms"
        )
        for cap in (int(c) for c in args.caps.split(",")):
            httpx.post(f"{sim_url}/_simulator/reset", timeout=10)
            figures = run_event_loop(run_campaign(url, sim_url, args.recipients, cap))
            print(
                f"cap {cap:>5}/s: {figures['sent']} sent ({figures['twice']} twice)"
                f" in {figures['seconds']} s;"
                f" achieved {figures['achieved_per_second']}/s ({figures['achieved_ratio']:.1%} of the cap);"
                f" most in any 1 s window {figures['max_in_any_second']} ({figures['peak_ratio']:.1%})"
            )
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
        drop_database(server, url)
        if embedded is not None:
            embedded.cleanup()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
