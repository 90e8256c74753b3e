"""Template analytics on fakes: the period rules, how statuses fold into figures, the use case with Meta's
figures or without them, Meta's answer read as documented; and the xlsx row source of contact imports."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from openpyxl import Workbook

from pywhatsapp.adapters.spreadsheets.xlsx import OpenpyxlReader, cell_text
from pywhatsapp.adapters.whatsapp.template_analytics import fold_points, request_params
from pywhatsapp.application.templates.analytics_ports import MetaAnalyticsUnavailable
from pywhatsapp.application.templates.template_analytics import TemplateAnalytics
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.contacts.contact_import import (
    ColumnMapping,
    ContactDraft,
    CsvFile,
    RejectedRow,
    plan_import,
)
from pywhatsapp.domain.contacts.import_file import ImportFileKind, UnsupportedFile, detect_kind, sheet_as_csv
from pywhatsapp.domain.errors import InvalidInput, NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.message import Direction, Message, MessageStatus
from pywhatsapp.domain.templates.analytics import (
    AnalyticsPeriod,
    MetaFigures,
    StatusCount,
    fold_counts,
)
from pywhatsapp.domain.templates.template import MessageTemplate
from pywhatsapp.domain.tenancy.membership import Role
from tests.unit.fakes import FakeUnitOfWorkFactory

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
TENANT = uuid4()
OTHER = uuid4()


def principal(tenant_id: UUID = TENANT) -> Principal:
    return Principal(
        user_id=uuid4(),
        username="ann",
        tenant_id=tenant_id,
        tenant_slug="acme",
        tenant_name="Acme",
        role=Role.AGENT,
    )


# --- the period ---------------------------------------------------------------------------------------------


def test_the_period_defaults_to_the_last_30_days_and_a_date_until_includes_its_day() -> None:
    default = AnalyticsPeriod.parse(None, None, NOW)
    assert (default.since, default.until) == (NOW - timedelta(days=30), NOW)
    days = AnalyticsPeriod.parse("2026-03-01", "2026-03-10", NOW)
    assert days.since == datetime(2026, 3, 1, tzinfo=UTC) and days.until == datetime(2026, 3, 11, tzinfo=UTC)
    moment = AnalyticsPeriod.parse("2026-03-01T10:00:00+02:00", "2026-03-01T12:00:00", NOW)
    assert moment.since == datetime(2026, 3, 1, 8, tzinfo=UTC) and moment.until.tzinfo is not None


@pytest.mark.parametrize(
    ("since", "until", "words"),
    [
        ("soon", None, "since must be a date"),
        (None, "2026-13-01", "until must be a date"),
        ("2026-03-10", "2026-03-01", "before until"),
        ("2024-01-01", "2026-01-01", "366 days"),
    ],
)
def test_bad_periods_are_refused(since: str | None, until: str | None, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        AnalyticsPeriod.parse(since, until, NOW)


# --- folding statuses ---------------------------------------------------------------------------------------


def test_statuses_fold_into_sends_deliveries_reads_and_failures_by_code() -> None:
    rows = [
        StatusCount("promo", "en_US", "read", None, 5),
        StatusCount("promo", "en_US", "delivered", None, 3),
        StatusCount("promo", "en_US", "sent", None, 1),
        StatusCount("promo", "en_US", "pending", None, 1),
        StatusCount("promo", "en_US", "failed", 131026, 2),
        StatusCount("promo", "en_US", "failed", 131049, 3),
        StatusCount("promo", "en_US", "failed", None, 1),
        StatusCount("promo", "pt_BR", "sent", None, 4),
    ]
    figures = fold_counts(rows)
    promo = figures[("promo", "en_US")]
    assert (promo.sends, promo.pending, promo.sent, promo.delivered, promo.read, promo.failed) == (
        16,
        1,
        9,
        8,
        5,
        6,
    )
    assert [(f.error_code, f.count) for f in promo.failures] == [(131049, 3), (131026, 2), (None, 1)]
    assert promo.delivery_rate == 0.5 and promo.read_rate == 0.625
    brazil = figures[("promo", "pt_BR")]
    assert brazil.delivered == 0 and brazil.read_rate is None and brazil.delivery_rate == 0.0


# --- the use case on fakes ----------------------------------------------------------------------------------


class FakeMetaAnalytics:
    def __init__(self, *, refuse: str | None = None) -> None:
        self.refuse = refuse
        self.calls: list[tuple[str, list[str]]] = []

    async def figures(
        self, channel: Channel, meta_template_ids: Sequence[str], period: AnalyticsPeriod
    ) -> dict[str, MetaFigures]:
        self.calls.append((channel.waba_id or "", list(meta_template_ids)))
        if self.refuse:
            raise MetaAnalyticsUnavailable(self.refuse)
        return {i: MetaFigures(meta_template_id=i, sent=7, delivered=6, read=5) for i in meta_template_ids}


def seeded(factory: FakeUnitOfWorkFactory, templates: int = 1) -> list[MessageTemplate]:
    channel = Channel(tenant_id=TENANT, phone_number_id="111", access_token="t", waba_id="waba-1")
    factory.put_record("channels", channel)
    stored = []
    for n in range(templates):
        template = MessageTemplate(
            tenant_id=TENANT,
            name=f"promo_{n}",
            language="en_US",
            meta_template_id=str(1000 + n),
            status="APPROVED",
        )
        factory.put_record("templates", template)
        stored.append(template)
    return stored


def send(
    factory: FakeUnitOfWorkFactory, name: str, status: MessageStatus, *, tenant: UUID = TENANT, **extra: Any
) -> None:
    factory.put_record(
        "messages",
        Message(
            tenant_id=tenant,
            direction=Direction.OUTGOING,
            type="template",
            wa_id="4915100000",
            status=status,
            content={"template": {"name": name, "language": {"code": "en_US"}}},
            timestamp=NOW - timedelta(days=1),
            **extra,
        ),
    )


async def test_one_templates_figures_with_metas_beside_them_and_only_its_tenants_sends() -> None:
    factory = FakeUnitOfWorkFactory()
    (promo,) = seeded(factory)
    send(factory, "promo_0", MessageStatus.READ)
    send(factory, "promo_0", MessageStatus.FAILED, error_code=131026)
    send(
        factory, "promo_0", MessageStatus.READ, tenant=OTHER
    )  # another tenant's send of a same-named template
    meta = FakeMetaAnalytics()
    analytics = TemplateAnalytics(factory, meta, clock=lambda: NOW)

    report = await analytics.for_template(principal(), promo.id, analytics.period(None, None))
    assert (report.ours.sends, report.ours.read, report.ours.failed) == (2, 1, 1)
    assert report.meta is not None and report.meta.sent == 7 and report.meta_note is None
    assert meta.calls == [("waba-1", ["1000"])]

    with pytest.raises(NotFound):
        await analytics.for_template(principal(OTHER), promo.id, analytics.period(None, None))


async def test_meta_is_asked_ten_templates_at_a_time_and_its_refusal_leaves_our_figures_with_a_note() -> None:
    factory = FakeUnitOfWorkFactory()
    seeded(factory, templates=12)
    send(factory, "promo_3", MessageStatus.DELIVERED)
    send(factory, "by_name_only", MessageStatus.SENT)
    meta = FakeMetaAnalytics()
    analytics = TemplateAnalytics(factory, meta, clock=lambda: NOW)
    report = await analytics.for_all(principal(), analytics.period(None, None))
    assert [len(ids) for _, ids in meta.calls] == [10, 2]
    assert report.templates[0].ours.sends == 1  # sent templates first
    unstored = next(r for r in report.templates if r.name == "by_name_only")
    assert unstored.template is None and unstored.meta is None and "not stored" in (unstored.meta_note or "")

    refusing = TemplateAnalytics(factory, FakeMetaAnalytics(refuse="(100) not enabled"), clock=lambda: NOW)
    refused = await refusing.for_all(principal(), refusing.period(None, None))
    promo_3 = next(r for r in refused.templates if r.name == "promo_3")
    assert promo_3.meta is None and promo_3.meta_note == "(100) not enabled" and promo_3.ours.delivered == 1

    own_only = await analytics.for_all(principal(), analytics.period(None, None), with_meta=False)
    assert all(r.meta is None and r.meta_note is None for r in own_only.templates)


# --- Meta's answer, read as documented ----------------------------------------------------------------------


def test_the_request_and_metas_daily_points_as_documented() -> None:
    period = AnalyticsPeriod.parse("2026-03-01", "2026-03-02", NOW)
    params = request_params(["1000", "1001"], period)
    assert params == {
        "start": str(int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())),
        "end": str(int(datetime(2026, 3, 3, tzinfo=UTC).timestamp())),
        "granularity": "DAILY",
        "metric_types": '["SENT", "DELIVERED", "READ", "CLICKED"]',
        "template_ids": "[1000, 1001]",
    }
    day = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
    points = [
        {"template_id": "1000", "start": day, "end": day + 86400, "sent": 3, "delivered": 2, "read": 1,
         "clicked": [{"type": "quick_reply_button", "button_content": "Tell me more", "count": 2}]},
        {"template_id": "1000", "start": day + 86400, "end": day + 172800, "sent": 1, "delivered": 1,
         "read": 1,
         "clicked": [{"type": "quick_reply_button", "button_content": "Tell me more", "count": 1},
                     {"type": "url_button", "button_content": "https://shop.example", "count": 4}]},
        {"template_id": "999", "sent": 50},
    ]  # fmt: skip
    figures = fold_points(points, ["1000", "1001"])
    first = figures["1000"]
    assert (first.sent, first.delivered, first.read, first.clicked) == (4, 3, 2, 7)
    assert [(c.button_content, c.count) for c in first.clicks] == [
        ("https://shop.example", 4),
        ("Tell me more", 3),
    ]
    assert [d.sent for d in first.days] == [3, 1]
    assert figures["1001"] == MetaFigures(meta_template_id="1001")  # Meta had nothing: zeros, not unknown


# --- the xlsx row source of contact imports -----------------------------------------------------------------


def xlsx(*rows: Sequence[Any], blank_first: bool = False) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for number, row in enumerate(rows, start=2 if blank_first else 1):
        for column, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(row=number, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_cells_read_as_a_person_sees_them() -> None:
    assert cell_text(14155550100) == "14155550100"
    assert cell_text(14155550100.0) == "14155550100"
    assert cell_text(1.5) == "1.5"
    assert cell_text(datetime(2024, 1, 2)) == "2024-01-02"
    assert cell_text(datetime(2024, 1, 2, 9, 30)) == "2024-01-02T09:30:00"
    assert cell_text(True) == "true" and cell_text(None) == "" and cell_text("  Ada ") == "Ada"


def test_a_sheet_keeps_its_row_numbers_through_the_csv_the_job_plans_from() -> None:
    data = xlsx(
        ["Phone", "Name; or nickname; or alias", "Town"],
        [14155550100, "Ada", "Oslo, NO"],
        [],
        [None, "Nobody", None],
        ["12", "Short", None],
        ["+1 415 555 0101", 'Bo "the" Builder', None],
    )
    rows = list(OpenpyxlReader().rows(data))
    assert rows[0] == ["Phone", "Name; or nickname; or alias", "Town"] and rows[2] == []
    text = sheet_as_csv(rows)
    source = CsvFile.parse(text)
    assert source.header == ["Phone", "Name; or nickname; or alias", "Town"]
    mapping = ColumnMapping.from_pairs(
        {"phone": "Phone", "name": "Name; or nickname; or alias", "attributes.town": "Town"}
    )
    plan = plan_import(source, mapping, "US")
    assert [(type(o).__name__, o.row) for o in plan] == [
        ("ContactDraft", 2),
        ("RejectedRow", 4),
        ("RejectedRow", 5),
        ("ContactDraft", 6),
    ]
    ada, missing, short, bo = plan
    assert (
        isinstance(ada, ContactDraft)
        and ada.wa_id == "14155550100"
        and ada.attributes == {"town": "Oslo, NO"}
    )
    assert isinstance(missing, RejectedRow) and missing.code.value == "missing_phone"
    assert isinstance(short, RejectedRow) and short.code.value == "bad_number"
    assert isinstance(bo, ContactDraft) and bo.name == 'Bo "the" Builder'


def test_a_sheet_whose_first_row_is_empty_is_refused_like_a_csv() -> None:
    rows = list(OpenpyxlReader().rows(xlsx(["Phone"], [14155550100], blank_first=True)))
    assert rows[0] == []
    with pytest.raises(InvalidInput, match="first row must name the columns"):
        sheet_as_csv(rows)


def test_files_are_told_apart_by_their_bytes_then_their_name() -> None:
    workbook = xlsx(["Phone"])
    assert detect_kind(workbook, filename="upload", content_type=None) is ImportFileKind.XLSX
    assert detect_kind(b"phone\n1\n", filename="people.csv", content_type="text/csv") is ImportFileKind.CSV
    for data, name, words in (
        (b"%PDF-1.4", "a.csv", "PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a.bin", ".xls"),
        (b"phone\n1\n", "people.xlsx", "not one"),
        (b"ph\x00one", "people.csv", "binary"),
    ):
        with pytest.raises(UnsupportedFile, match=words):
            detect_kind(data, filename=name, content_type=None)
    with pytest.raises(InvalidInput, match="not a readable xlsx"):
        list(OpenpyxlReader().rows(b"PK\x03\x04 not really a zip"))
