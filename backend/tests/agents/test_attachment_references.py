"""Questions that point at the customer's uploaded file ("that order", "the invoice I sent", "this file")
are answered from the file first (its total, date or items, the file named as the source), through
the real REST path: upload with one message, ask in the next ones."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from fpdf import FPDF

from app.tools import attachment_fields
from tests.conftest import ChatSessionHandle, make_settings, running_app

INVOICE_LINES = ["Trailhead Outfitters - Invoice INV-5521", "Invoice date: 14 March 2025", "Order number: TH-88412",
                 "", "Item                         Qty   Price", "Ridgeline 2 tent              1    $289.00",
                 "Trail stove mini              2    $34.50", "Merino socks                  3    $12.00",
                 "Subtotal: $394.00", "Shipping: $9.95", "Total paid: $403.95"]


def invoice_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    for line in INVOICE_LINES:
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


async def upload(client: httpx.AsyncClient, session: ChatSessionHandle, message: str,
                 file: tuple[str, bytes, str]) -> dict:
    response = await client.post(f"/chat/sessions/{session.id}/messages", headers=session.headers,
                                 data={"message": message}, files=[("attachments", file)])
    assert response.status_code == 200, response.text
    return response.json()


async def new_session(client: httpx.AsyncClient) -> ChatSessionHandle:
    response = await client.post("/chat/sessions", json={"user_id": f"u-{uuid.uuid4().hex[:6]}"})
    assert response.status_code == 201
    return ChatSessionHandle(client, response.json())


def _from_file_only(body: dict, filename: str) -> None:
    assert f"**{filename}**" in body["message"]
    assert body["sources"] == [], body["sources"]  # no help-center article quoted instead
    assert body["requires_escalation"] is False


async def test_references_to_an_uploaded_pdf_are_answered_from_it(data_dir: Path) -> None:
    async with running_app(make_settings(data_dir)) as (_, client):
        session = await new_session(client)
        await upload(client, session, "Here's my invoice from last week.", ("invoice.pdf", invoice_pdf(),
                                                                           "application/pdf"))

        total = (await session.send("what did I pay in total for that order?")).json()
        _from_file_only(total, "invoice.pdf")
        assert "$403.95" in total["message"] and "$394.00" not in total["message"]

        date = (await session.send("what's the date on the invoice I sent?")).json()
        _from_file_only(date, "invoice.pdf")
        assert "14 March 2025" in date["message"]

        items = (await session.send("which items are in this file?")).json()
        _from_file_only(items, "invoice.pdf")
        for name in ("Ridgeline 2 tent", "Trail stove mini", "Merino socks"):
            assert name in items["message"]
        assert "Subtotal" not in items["message"] and "Shipping" not in items["message"]

        shipping = (await session.send("how much was shipping on my invoice?")).json()
        _from_file_only(shipping, "invoice.pdf")
        assert "$9.95" in shipping["message"] and "$403.95" not in shipping["message"]

        # An order word without anything a file answers: the help center, as before.
        general = (await session.send("how much does next day delivery cost for my order?")).json()
        assert general["sources"][0]["metadata"]["source"] == "shipping-options-and-costs.md"
        assert "invoice.pdf" not in general["message"]


async def test_a_text_receipt_answers_the_date_the_question_names(data_dir: Path) -> None:
    receipt = ("receipt.txt", b"Order confirmation TH-9001\nOrder date: 2025-02-03\nPayment due: 2025-03-05\n\n"
               b"- Down jacket (M) $199.00\n- Stuff sack $15.00\n\nTotal: $214.00\n", "text/plain")
    async with running_app(make_settings(data_dir)) as (_, client):
        session = await new_session(client)
        first = await upload(client, session, "when is the payment due on this receipt?", receipt)
        _from_file_only(first, "receipt.txt")
        assert "2025-03-05" in first["message"] and "2025-02-03" not in first["message"]
        placed = (await session.send("when did I place that order?")).json()
        _from_file_only(placed, "receipt.txt")
        assert "2025-02-03" in placed["message"]
        bought = (await session.send("what did I buy?")).json()
        _from_file_only(bought, "receipt.txt")
        assert "Down jacket" in bought["message"] and "Stuff sack" in bought["message"]


@pytest.mark.parametrize(("question", "expected"), [
    ("what did I pay in total for that order?", "weak"),
    ("what's the date on the invoice I sent?", "strong"),
    ("which items are in this file?", "strong"),
    ("can you check the PDF?", "strong"),
    ("the one I uploaded, what's the total?", "strong"),
    ("How do I return an item?", None),
    ("Do you ship to Canada?", None),
])
def test_references_are_recognised(question: str, expected: str | None) -> None:
    assert attachment_fields.reference(question) == expected


@pytest.mark.parametrize(("question", "field"), [
    ("what did I pay in total?", "total"), ("how much was the tax?", "total"), ("when was it dated?", "date"),
    ("what's the invoice date?", "date"), ("which products did I get?", "items"), ("list the items", "items"),
    ("when will it arrive?", None), ("where is it?", None),
])
def test_the_asked_field(question: str, field: str | None) -> None:
    assert attachment_fields.asked_field(question) == field


def test_a_markdown_table_lists_its_rows_not_its_header_or_totals() -> None:
    text = ("| Item | Qty | Price |\n| --- | --- | --- |\n| Tent | 1 | $120.00 |\n| Stove | 1 | $45.00 |\n"
            "| Total | | $165.00 |")
    items = attachment_fields.extract(text, "items", "which items?", "order.docx")
    assert items is not None and items.lines == ("Tent | 1 | $120.00", "Stove | 1 | $45.00")
    total = attachment_fields.extract(text, "total", "what was the total?", "order.docx")
    assert total is not None and total.value == "$165.00"


def test_a_question_naming_something_the_file_does_not_price_gets_no_file_answer() -> None:
    text = "Subtotal: $50.00\nShipping: $5.00\nTotal: $55.00"
    assert attachment_fields.extract(text, "total", "how much does gift wrapping cost?") is None


@pytest.mark.parametrize("hostile", ["1" * 20_000, "1," * 10_000, "$" + "9" * 20_000, "12.3" * 5_000])
def test_a_hostile_file_costs_the_extractor_no_backtracking(hostile: str) -> None:
    """The extractor runs on the event loop over up to 20,000 characters of a customer's file. A file of
    20,000 digits took the money pattern 16 s (quadratic backtracking) while every session waited; it is
    linear now. The bound is 50x the measured time, far below the old cost, so load cannot flake it."""
    import time

    started = time.perf_counter()
    for field in ("total", "date", "items"):
        attachment_fields.extract(hostile, field, "what is the total on the invoice I sent?", "bomb.txt")
    assert time.perf_counter() - started < 2.0
