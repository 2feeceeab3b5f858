from pathlib import Path

import pytest

from app.knowledge.embeddings import load_embedder
from app.knowledge.ingestion import Ingestor
from app.knowledge.search import KnowledgeBase
from app.knowledge.vector_store import VectorStore
from tests.knowledge.fixtures import FACTS, QUESTIONS, write_all, write_md


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    write_all(tmp_path / "docs")
    return tmp_path / "docs"


def test_every_format_ingests_and_is_found(docs: Path, tmp_path: Path) -> None:
    store = VectorStore("formats", path=tmp_path / "chroma")
    report = Ingestor(load_embedder(""), store).ingest_directory(docs)
    assert report.failed == {} and report.documents == len(FACTS)
    kb = KnowledgeBase(load_embedder(""), store)
    for suffix, question in QUESTIONS.items():
        top = kb.search(question, k=1)[0]
        assert top.metadata["source"].endswith(suffix), (suffix, top.metadata["source"])
        assert top.metadata["format"] == suffix.lstrip(".")
        assert "alert(1)" not in top.content


def test_chunks_carry_title_section_hash_and_date(docs: Path, tmp_path: Path) -> None:
    store = VectorStore("meta_test", path=tmp_path / "chroma")
    Ingestor(load_embedder(""), store).ingest_directory(docs)
    _, _, metas = store.all_chunks()
    docx = next(m for m in metas if m["source"].endswith(".docx"))
    assert docx["title"] == "Bike rental" and docx["section"] == "Details"
    assert len(docx["content_hash"]) == 64 and docx["updated_at"].startswith("20")


def test_ingestion_is_idempotent_replaces_changes_and_prunes(docs: Path, tmp_path: Path) -> None:
    (docs / "empty.md").write_text("  \n")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (docs / "broken.docx").write_bytes(b"PK not a zip at all")
    store = VectorStore("ingest_test", path=tmp_path / "chroma")
    ingestor = Ingestor(load_embedder(""), store)
    first = ingestor.ingest_directory(docs)
    assert first.documents == len(FACTS)
    assert first.empty == ["empty.md"] and first.skipped == 1
    assert sorted(first.failed) == ["broken.docx", "broken.pdf"]
    assert "PDF" in first.failed["broken.pdf"] and "DOCX" in first.failed["broken.docx"]
    count, version = store.count(), store.version()

    again = ingestor.ingest_directory(docs)
    assert again.documents == 0 and again.skipped == len(FACTS) + 1
    assert store.count() == count and store.version() == version  # nothing changed, cache stays valid

    write_md(docs / "ski-wax.md", "Ski wax", "We now wax skis in 2 hours for 35 dollars.")
    changed = ingestor.ingest_directory(docs)
    assert changed.documents == 1 and store.count() == count and store.version() != version
    kb = KnowledgeBase(load_embedder(""), store)
    top = kb.search("how much does ski waxing cost", k=1)[0]
    assert "2 hours for 35 dollars" in top.content

    (docs / "ski-wax.md").write_text("   \n")  # emptied: its old answer must go, not linger
    emptied = ingestor.ingest_directory(docs)
    assert "ski-wax.md" in emptied.empty and emptied.pruned == 1
    assert all(h.metadata["source"] != "ski-wax.md" for h in kb.search("how much does ski waxing cost", k=10))

    (docs / "tent-repair.txt").unlink()
    pruned = ingestor.ingest_directory(docs, prune=True)
    assert pruned.pruned == 1
    assert all(not h.metadata["source"].endswith(".txt") for h in kb.search("tent mesh repair", k=10))


def test_search_returns_one_passage_per_document(seeded_chroma: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(seeded_chroma, tmp_path / "c")
    kb = KnowledgeBase(load_embedder(""), VectorStore("knowledge_base", path=tmp_path / "c"))
    hits = kb.search("returns and refunds", k=5)
    sources = [h.metadata["source"] for h in hits]
    assert len(sources) == len(set(sources)) == 5
