"""Helpers for campaign tests: a tenant with a channel on the simulator, and what "Meta" received."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx

from tests.support.simulator import SimulatorServer

APP_SECRET = "simulator-app-secret-0123456789abcdef"
PHONE_NUMBER_ID = "1122334455667"
WABA_ID = "1234567890987654321"


def numbers(count: int) -> list[str]:
    """`count` distinct valid customer numbers (E.164 digits: German mobiles, +49 151 ...)."""
    base = uuid4().int % 1000
    return [f"49151{base:03d}{i:05d}" for i in range(count)]


def max_in_any_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, left = 0, 0
    for right, at in enumerate(times):
        while times[left] <= at - window:
            left += 1
        best = max(best, right - left + 1)
    return best


@dataclass
class CampaignShop:
    client: httpx.AsyncClient
    sim: SimulatorServer
    base_url: str
    token: str
    tenant_id: UUID
    channel_id: UUID

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def create(self, **body: Any) -> dict[str, Any]:
        response = await self.client.post("/api/v1/campaigns", json=body, headers=self.auth)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    async def get(self, campaign_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/campaigns/{campaign_id}", headers=self.auth)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    async def action(self, campaign_id: str, action: str, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/campaigns/{campaign_id}/{action}", json=body or None, headers=self.auth
        )

    async def wait_status(self, campaign_id: str, status: str, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        campaign = await self.get(campaign_id)
        while campaign["status"] != status:
            assert time.monotonic() < deadline, f"still {campaign['status']} after {timeout}s: {campaign}"
            await asyncio.sleep(0.2)
            campaign = await self.get(campaign_id)
        return campaign

    async def wait_counts(self, campaign_id: str, timeout: float = 180, **expected: int) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            campaign = await self.get(campaign_id)
            counts = campaign["counts"]
            if all(counts[key] == value for key, value in expected.items()):
                return campaign
            assert time.monotonic() < deadline, f"counts {counts} never reached {expected}"
            await asyncio.sleep(0.2)

    def sent(self) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = self.sim.control("GET", "sent").json()
        return sent

    def sends_per_number(self) -> Counter[str]:
        return Counter(message["wa_id"] for message in self.sent())

    def fault(self, **fault: Any) -> None:
        self.sim.control("POST", "faults", json={"match": "/messages", **fault}).raise_for_status()


async def open_shop(
    client: httpx.AsyncClient, sim: SimulatorServer, base_url: str, token: str, tenant_id: UUID, rate: int
) -> CampaignShop:
    created = await client.post(
        "/api/v1/channels",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "phone_number_id": PHONE_NUMBER_ID,
            "access_token": "EAAG-campaign-token",
            "app_secret": APP_SECRET,
            "waba_id": WABA_ID,
            "messages_per_second": rate,
        },
    )
    assert created.status_code == 201, created.text
    return CampaignShop(client, sim, base_url, token, tenant_id, UUID(created.json()["data"]["id"]))
