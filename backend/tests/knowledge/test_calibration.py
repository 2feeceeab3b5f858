"""The decline boundary is measured per knowledge base, stored with the collection and re-measured on change."""

from __future__ import annotations

from pathlib import Path

from app.knowledge import calibration
from app.knowledge.embeddings import load_embedder
from app.knowledge.ingestion import Ingestor
from app.knowledge.search import KnowledgeBase
from app.knowledge.vector_store import VectorStore

COLOURS = ["Red", "Orange", "Yellow", "Green", "Blue", "Indigo", "Violet", "Silver", "Gold", "Bronze"]


def _write_siblings(folder: Path) -> None:
    """Ten sibling products documented alike: a question about any is close to all the others."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, colour in enumerate(COLOURS):
        (folder / f"{colour.lower()}-plan.md").write_text(
            f"# {colour} Plan: fees and limits\n\n- Monthly fee: ${5 + i}.00\n- Daily transfer limit: "
            f"${1000 * (i + 1):,}\n- Overdraft fee: $0.00\n")


def test_a_help_center_of_close_siblings_gets_a_stricter_boundary_stored_with_the_collection(tmp_path: Path) -> None:
    embedder = load_embedder("")
    _write_siblings(tmp_path / "docs")
    store = VectorStore("calibration_kb", path=tmp_path / "chroma")
    Ingestor(embedder, store).ingest_directory(tmp_path / "docs")
    kb = KnowledgeBase(embedder, store, calibrate=True)
    kb.recalibrate()
    measured = kb.calibrator.current if kb.calibrator else None
    assert measured is not None and measured.version == store.version()
    assert measured.samples == len(COLOURS)
    # Leaving one plan out still finds a sibling this close, so "close" is not evidence of an answer here.
    assert measured.center > kb.default_center
    assert kb.answerability.center == measured.center

    stored = calibration.load(kb)
    assert stored is not None and (stored.version, stored.center) == (measured.version, measured.center)
    again = KnowledgeBase(embedder, VectorStore("calibration_kb", path=tmp_path / "chroma"), calibrate=True)
    again.recalibrate()  # another process (or a restart) reads it instead of measuring
    assert again.answerability.center == measured.center

    (tmp_path / "docs" / "teal-plan.md").write_text("# Teal Plan: fees and limits\n\n- Monthly fee: $3.00\n")
    Ingestor(embedder, store).ingest_directory(tmp_path / "docs")
    stale = calibration.load(kb)
    assert stale is not None and stale.version != store.version()  # the change made the stored one stale
    kb.retrieve("Teal Plan monthly fee")  # the next retrieval re-measures for the new version
    fresh = calibration.load(kb)
    assert fresh is not None and fresh.version == store.version() and fresh.samples == len(COLOURS) + 1


def test_a_small_or_empty_help_center_keeps_the_default_boundary(tmp_path: Path) -> None:
    embedder = load_embedder("")
    store = VectorStore("calibration_small", path=tmp_path / "chroma")
    kb = KnowledgeBase(embedder, store, calibrate=True)
    kb.recalibrate()
    assert kb.answerability.center == kb.default_center
    fixed = KnowledgeBase(embedder, store, calibrate=False)
    fixed.recalibrate()
    assert fixed.calibrator is None and fixed.answerability.center == fixed.default_center
