"""Per-knowledge-base calibration of the answer/decline boundary, computed from the documents themselves.

How high the evidence of a *wrong* article climbs depends on the help center: in one where every
product has a dozen sibling articles ("Gold Card: fees", "Business Gold Card: fees"), a question the
help center does not answer still finds a close passage; in a small FAQ it does not. So the boundary
is measured, not fixed: each sampled document's own title is asked as a question with that document
left out (leave-one-out), and the evidence of the best remaining passage is recorded. Those scores
are what "close but not the answer" looks like in this knowledge base. The boundary (the logistic's
center) is their 5th percentile less one logistic scale, never below the global default: a title is
an easier question than a customer's paraphrase, so only the low end of the distribution transfers.

The result is stored with the collection (in the headings collection's metadata, beside the chunk
collection's version) together with the version it was computed for; any ingestion or deletion moves
the version on and the next retrieval, or the ingesting process itself, recalibrates.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from app.knowledge.search import KnowledgeBase

log = logging.getLogger("app.knowledge")

SAMPLE_DOCUMENTS = 60  # enough for a stable 5th percentile; about a second of searches
QUANTILE = 0.05
MIN_DOCUMENTS = 8  # below this leave-one-out says nothing; keep the default
# Stored with the result: a stored calibration made by another method is measured again.
METHOD = "loo-title-q05-1"


@dataclass(frozen=True)
class Calibration:
    version: str
    center: float
    samples: int
    leave_one_out_q05: float | None = None


def calibrate(kb: KnowledgeBase, version: str, default_center: float, seed: int = 0) -> Calibration:
    """Measure the boundary for the knowledge base at `version` (blocking: several searches)."""
    _, _, metas = kb.store.all_chunks()
    titles: dict[str, str] = {}
    for meta in metas:
        doc_id, title = str(meta.get("doc_id", "")), str(meta.get("title") or "").strip()
        if doc_id and title and doc_id not in titles:
            titles[doc_id] = title
    if len(titles) < MIN_DOCUMENTS:
        return Calibration(version, default_center, len(titles))
    sample = random.Random(seed).sample(sorted(titles), min(SAMPLE_DOCUMENTS, len(titles)))
    absent = []
    for doc_id in sample:
        hits = [h for h in kb.search(titles[doc_id], 4, version=version)
                if str(h.metadata.get("doc_id")) != doc_id]
        if hits:
            absent.append(kb.answerability.evidence(hits))
    if len(absent) < MIN_DOCUMENTS:
        return Calibration(version, default_center, len(absent))
    low = float(np.quantile(absent, QUANTILE))
    # One logistic scale below: a real question about an answered topic scores a little under its
    # article's own title, so the boundary sits where such a question is still answered.
    center = max(default_center, low - kb.answerability.scale)
    log.info("kb.calibrated", extra={"kb_version": version, "center": round(center, 4), "samples": len(absent),
                                     "leave_one_out_q05": round(low, 4)})
    return Calibration(version, round(center, 4), len(absent), round(low, 4))


def load(kb: KnowledgeBase) -> Calibration | None:
    """The stored calibration, whatever version it was computed for."""
    meta = kb.store.client.get_collection(kb.store.headings.name).metadata or {}
    if "calibration_version" not in meta or meta.get("calibration_method") != METHOD:
        return None
    return Calibration(str(meta["calibration_version"]), float(meta["calibration_center"]),
                       int(meta.get("calibration_samples", 0)))


def save(kb: KnowledgeBase, calibration: Calibration) -> None:
    # The headings collection's metadata, not the chunk collection's: that one holds the version,
    # which a concurrent ingestion may be moving on right now and must never be written back.
    kb.store.headings.modify(metadata={"calibration_version": calibration.version,
                                       "calibration_center": calibration.center,
                                       "calibration_samples": calibration.samples,
                                       "calibration_method": METHOD})


class Calibrator:
    """Keeps a KnowledgeBase's answerability center calibrated for the version it is serving."""

    def __init__(self) -> None:
        self.version: str | None = None
        self.current: Calibration | None = None
        self._lock = threading.Lock()

    def ensure(self, kb: KnowledgeBase, version: str) -> None:
        """Cheap when `version` is the calibrated one; else load the stored calibration or measure it."""
        if self.version == version:
            return
        with self._lock:
            if self.version == version:
                return
            try:
                stored = load(kb)
                if stored is None or stored.version != version:
                    stored = calibrate(kb, version, kb.default_center)
                    save(kb, stored)
            except Exception:  # a failed calibration must not stop answers: keep the last center
                log.exception("kb.calibration.failed")
                return
            kb.answerability.center = stored.center
            self.current, self.version = stored, version
