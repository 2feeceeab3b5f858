"""Admin API for the knowledge base, behind an integrator API key with the `admin` scope or an admin's
staff token (the support console)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from app.db.models import StaffUser
from app.deps import ServicesDep
from app.errors import NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from app.knowledge.ingestion import SUPPORTED_SUFFIXES, CorruptDocument
from app.knowledge.service import KnowledgeAdmin
from app.security import staff_tokens
from app.security.api_keys import ApiKey, Forbidden, authorise, presented_key
from app.staff.deps import staff_from_token
from app.staff.enums import StaffRole

router = APIRouter(prefix="/knowledge", tags=["knowledge"])


async def require_admin(request: Request, services: ServicesDep) -> ApiKey | StaffUser:
    presented = presented_key(request)
    if presented and staff_tokens.verify(services.settings.secret_key, presented) is not None:
        user = await staff_from_token(services, presented)  # a disabled account is refused here
        if user.role != StaffRole.ADMIN:
            raise Forbidden("Only admins manage the knowledge base", code="admin_only")
        return user
    return authorise(request.app.state.api_keys, presented, "admin")


AdminKey = Annotated[ApiKey | StaffUser, Depends(require_admin)]
_AUTH: dict[int | str, dict[str, Any]] = {401: {"description": "Missing or invalid API key or staff token"},
                                          403: {"description": "Key lacks the admin scope, or staff user is no admin"}}


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=5, ge=1, le=20)


def _admin(services: ServicesDep) -> KnowledgeAdmin:
    return KnowledgeAdmin(services.knowledge)


@router.post("/documents", status_code=201, responses={**_AUTH, 413: {}, 415: {}, 422: {}},
             openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["files"],
                 "properties": {"files": {"type": "array", "minItems": 1,
                                          "items": {"type": "string", "format": "binary"}}}}}}}})
async def upload_documents(request: Request, _: AdminKey, services: ServicesDep) -> dict[str, Any]:
    """Upload and ingest one or more files (field `files`). Each file is reported on its own: a corrupt
    file is `failed` with the parser's reason while the others ingest; the same file twice is `unchanged`."""
    form = await request.form(max_files=50, max_fields=10)
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    if not uploads:
        raise Unprocessable("Send one or more files in the multipart field 'files'", code="no_files")
    limit = services.settings.max_upload_bytes
    files: list[tuple[str, bytes]] = []
    for upload in uploads:
        name = Path((upload.filename or "").replace("\\", "/")).name
        if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            raise UnsupportedMediaType(f"'{name}' is not a supported document type; supported: "
                                       + ", ".join(sorted(SUPPORTED_SUFFIXES)), code="document_type_not_supported")
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(f"'{name}' is larger than {limit} bytes", code="document_too_large")
        files.append((name, data))

    admin = _admin(services)
    results: list[dict[str, Any]] = []
    for name, data in files:
        try:
            doc_id, report = await anyio.to_thread.run_sync(admin.ingest_upload, name, data)
        except CorruptDocument as exc:
            results.append({"filename": name, "status": "failed", "reason": str(exc)})
            continue
        status = "ingested" if report.documents else ("empty" if report.empty else "unchanged")
        results.append({"filename": name, "doc_id": doc_id, "status": status, "chunks": report.chunks})
    if all(r["status"] == "failed" for r in results):
        raise Unprocessable(results, code="documents_unreadable")
    return {"documents": results, "version": await anyio.to_thread.run_sync(services.store.version)}


@router.get("/documents", responses=_AUTH)
async def list_documents(_: AdminKey, services: ServicesDep) -> dict[str, Any]:
    docs = await anyio.to_thread.run_sync(_admin(services).list_documents)
    version = await anyio.to_thread.run_sync(services.store.version)
    return {"documents": [d.as_dict() for d in docs], "total": len(docs), "version": version}


@router.delete("/documents/{doc_id}", responses={**_AUTH, 404: {}})
async def delete_document(doc_id: str, _: AdminKey, services: ServicesDep) -> dict[str, Any]:
    if not await anyio.to_thread.run_sync(_admin(services).delete, doc_id):
        raise NotFound("Document not found", code="document_not_found")
    return {"doc_id": doc_id, "status": "deleted", "version": await anyio.to_thread.run_sync(services.store.version)}


@router.post("/search", responses=_AUTH)
async def debug_search(body: SearchRequest, _: AdminKey, services: ServicesDep) -> dict[str, Any]:
    """The agent's own retrieval, with every signal and the answer/decline verdict."""
    retrieval = await services.knowledge.aretrieve(body.query, body.k)
    return {"query": body.query, "confidence": retrieval.confidence, "answerable": retrieval.answerable,
            "threshold": services.knowledge.answerability.threshold,
            "results": [{**h.as_source(), "signals": {k: round(v, 4) for k, v in h.signals.items()}}
                        for h in retrieval.hits]}
