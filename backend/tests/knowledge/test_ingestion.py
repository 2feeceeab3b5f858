from pathlib import Path

from app.knowledge.embeddings import load_embedder
from app.knowledge.ingestion import Ingestor
from app.knowledge.search import KnowledgeBase
from app.knowledge.vector_store import VectorStore


def _write_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Bike rental", level=1)
    document.add_heading("Prices", level=2)
    document.add_paragraph("Renting a mountain bike costs 45 dollars per day, helmets included.")
    document.save(str(path))


def _write_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, "Kayak lessons\n\nBeginner kayak lessons run every Saturday at the lake dock "
                         "and last two hours.")
    pdf.output(str(path))


def test_ingestion_is_idempotent_replaces_changes_and_prunes(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ski-wax.md").write_text("# Ski wax\n\n## Service\n\nWe wax skis in 24 hours for 30 dollars.\n")
    (docs / "climbing.md").write_text("# Climbing wall\n\n## Hours\n\nThe climbing wall opens at 7am daily.\n")
    (docs / "empty.md").write_text("  \n")
    _write_docx(docs / "bikes.docx")
    _write_pdf(docs / "kayak.pdf")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")

    store = VectorStore("ingest_test", path=tmp_path / "chroma")
    ingestor = Ingestor(load_embedder(""), store)
    first = ingestor.ingest_directory(docs)
    assert first.documents == 4
    assert first.skipped == 1  # the empty document
    assert list(first.failed) == ["broken.pdf"]
    count = store.count()

    again = ingestor.ingest_directory(docs)
    assert again.documents == 0 and again.skipped == 5 and store.count() == count

    (docs / "ski-wax.md").write_text("# Ski wax\n\n## Service\n\nWe now wax skis in 2 hours for 35 dollars.\n")
    changed = ingestor.ingest_directory(docs)
    assert changed.documents == 1 and store.count() == count

    kb = KnowledgeBase(load_embedder(""), store)
    top = kb.search("how much does ski waxing cost", k=1)[0]
    assert "2 hours for 35 dollars" in top.content and top.metadata["source"] == "ski-wax.md"
    assert kb.search("how much is a bike rental per day", k=1)[0].metadata["source"] == "bikes.docx"
    assert kb.search("when are kayak lessons", k=1)[0].metadata["source"] == "kayak.pdf"

    (docs / "climbing.md").unlink()
    pruned = ingestor.ingest_directory(docs, prune=True)
    assert pruned.pruned == 1
    assert all(h.metadata["source"] != "climbing.md" for h in kb.search("climbing wall hours", k=5))


def test_search_returns_one_passage_per_document(seeded_chroma: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(seeded_chroma, tmp_path / "c")
    kb = KnowledgeBase(load_embedder(""), VectorStore("knowledge_base", path=tmp_path / "c"))
    hits = kb.search("returns and refunds", k=5)
    sources = [h.metadata["source"] for h in hits]
    assert len(sources) == len(set(sources)) == 5
    assert hits == sorted(hits, key=lambda h: h.distance)
