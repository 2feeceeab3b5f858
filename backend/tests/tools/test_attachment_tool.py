"""The attachment tool reads real files of every supported type, and names what it cannot read."""

import uuid
from pathlib import Path

import docx
import openpyxl
import pptx
from fpdf import FPDF
from sqlalchemy import select

from app.db.engine import Database
from app.db.models import Attachment
from app.tools.attachment_tool import AttachmentTool
from app.tools.base_tool import AttachmentRef, ToolContext
from tests.tools.conftest import new_chat_session

FACT = "Total due: $148.00 for order TH-2291"


def write_pdf(path: Path, text: str | None = FACT, password: str | None = None) -> None:
    pdf = FPDF()
    pdf.add_page()
    if text:
        pdf.set_font("helvetica", size=12)
        pdf.multi_cell(0, 8, text)
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    pdf.output(str(path))


def make_files(folder: Path) -> dict[str, Path]:
    files = {name: folder / name for name in ("a.pdf", "a.docx", "a.xlsx", "a.pptx", "a.html", "a.txt", "a.csv")}
    write_pdf(files["a.pdf"])
    document = docx.Document()
    document.add_paragraph(FACT)
    document.save(str(files["a.docx"]))
    book = openpyxl.Workbook()
    book.active.append(["Total due:", "$148.00 for order TH-2291"])
    book.save(str(files["a.xlsx"]))
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Invoice"
    slide.placeholders[1].text = FACT
    deck.save(str(files["a.pptx"]))
    files["a.html"].write_text(f"<html><body><h1>Invoice</h1><p>{FACT}</p></body></html>")
    files["a.txt"].write_text(f"Invoice\n\n{FACT}\n")
    files["a.csv"].write_text(f"item,amount\n\"{FACT}\",148.00\n")
    return files


async def stored(db: Database, session_id: uuid.UUID, path: Path) -> AttachmentRef:
    async with db.transaction() as s:
        row = Attachment(session_id=session_id, filename=path.name, content_type="application/octet-stream",
                         size_bytes=path.stat().st_size, sha256="0" * 64, storage_path=str(path))
        s.add(row)
        await s.flush()
    return AttachmentRef(id=row.id, filename=row.filename, content_type=row.content_type,
                         storage_path=row.storage_path)


async def test_every_supported_type_is_read_and_the_text_is_kept(db: Database, tmp_path: Path) -> None:
    session_id = await new_chat_session(db)
    refs = [await stored(db, session_id, p) for p in make_files(tmp_path).values()]
    tool = AttachmentTool(db)
    result = await tool.run(ToolContext(session_id=session_id, attachments=tuple(refs)),
                            question="What is the total due?")
    assert result.success, result.error
    for file in result.data:
        assert file.status == "processed", (file.filename, file.status)
        assert "148.00" in file.text, file.filename
        assert file.excerpts and "148.00" in "\n".join(file.excerpts), file.filename
    async with db.sessionmaker() as s:
        rows = list(await s.scalars(select(Attachment).where(Attachment.session_id == session_id)))
    assert all(r.status == "processed" and "148.00" in (r.extracted_text or "") for r in rows)


async def test_unreadable_files_get_a_clear_problem(db: Database, tmp_path: Path) -> None:
    session_id = await new_chat_session(db)
    write_pdf(tmp_path / "locked.pdf", password="secret")
    write_pdf(tmp_path / "blank.pdf", text=None)
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 this is not a real document")
    (tmp_path / "cut.pdf").write_bytes((tmp_path / "locked.pdf").read_bytes()[:200])
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    names = ["locked.pdf", "blank.pdf", "broken.docx", "cut.pdf", "photo.png"]
    refs = [await stored(db, session_id, tmp_path / n) for n in names]
    result = await AttachmentTool(db).run(ToolContext(session_id=session_id, attachments=tuple(refs)))
    statuses = {f.filename: f.status for f in result.data}
    assert statuses == {"locked.pdf": "encrypted", "blank.pdf": "empty", "broken.docx": "corrupt",
                        "cut.pdf": "corrupt", "photo.png": "image"}
    problems = {f.filename: f.problem or "" for f in result.data}
    assert "password-protected" in problems["locked.pdf"]
    assert "damaged" in problems["broken.docx"] and "DOCX" in problems["broken.docx"]
    assert "empty" in problems["blank.pdf"]
    assert result.metadata["unreadable"] == 5
