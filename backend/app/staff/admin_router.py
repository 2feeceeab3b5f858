"""Admin routes of the staff side: staff accounts and canned replies (agents may read canned replies)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db.models import CannedReply
from app.deps import ServicesDep
from app.errors import Conflict, NotFound
from app.staff.deps import AdminStaff, CurrentStaff
from app.staff.schemas import (
    CannedReplyIn,
    CannedReplyList,
    CannedReplyOut,
    CannedReplyUpdate,
    StaffCreate,
    StaffList,
    StaffPublic,
    StaffUpdate,
)
from app.staff.users import StaffChanges

router = APIRouter(prefix="/staff", tags=["staff"])
_ADMIN: dict[int | str, dict[str, Any]] = {401: {"description": "No valid staff token"},
                                           403: {"description": "Admins only"}}


@router.get("/users", response_model=StaffList, responses=_ADMIN)
async def list_staff(_: AdminStaff, services: ServicesDep) -> StaffList:
    users = await services.staff.users.list()
    return StaffList(items=[StaffPublic.model_validate(u, from_attributes=True) for u in users], total=len(users))


@router.post("/users", status_code=201, response_model=StaffPublic,
             responses={**_ADMIN, 409: {"description": "Email taken"}, 422: {"description": "Weak password"}})
async def create_staff(body: StaffCreate, _: AdminStaff, services: ServicesDep) -> StaffPublic:
    user = await services.staff.users.create(body.email, body.name, body.role, body.password)
    return StaffPublic.model_validate(user, from_attributes=True)


@router.patch("/users/{staff_id}", response_model=StaffPublic,
              responses={**_ADMIN, 404: {"description": "Unknown staff user"}})
async def update_staff(staff_id: uuid.UUID, body: StaffUpdate, admin: AdminStaff, services: ServicesDep) -> StaffPublic:
    if staff_id == admin.id and (body.active is False or (body.role is not None and body.role != admin.role)):
        raise Conflict("Admins cannot disable or demote themselves", code="self_lockout")
    user = await services.staff.users.update(staff_id, StaffChanges(body.name, body.role, body.active, body.password))
    return StaffPublic.model_validate(user, from_attributes=True)


def _reply_out(r: CannedReply) -> CannedReplyOut:
    return CannedReplyOut(id=r.id, short_code=r.short_code, content=r.content, updated_at=r.updated_at)


@router.get("/canned-replies", response_model=CannedReplyList, responses={401: _ADMIN[401]})
async def list_canned(_: CurrentStaff, services: ServicesDep) -> CannedReplyList:
    async with services.db.sessionmaker() as s:
        rows = await s.scalars(select(CannedReply).order_by(CannedReply.short_code))
        return CannedReplyList(items=[_reply_out(r) for r in rows])


@router.post("/canned-replies", status_code=201, response_model=CannedReplyOut,
             responses={**_ADMIN, 409: {"description": "Short code taken"}})
async def create_canned(body: CannedReplyIn, _: AdminStaff, services: ServicesDep) -> CannedReplyOut:
    try:
        async with services.db.transaction() as s:
            row = CannedReply(short_code=body.short_code, content=body.content)
            s.add(row)
            await s.flush()
    except IntegrityError as exc:
        raise Conflict("A canned reply with this short code exists", code="short_code_taken") from exc
    return _reply_out(row)


@router.patch("/canned-replies/{reply_id}", response_model=CannedReplyOut,
              responses={**_ADMIN, 404: {"description": "Unknown canned reply"}, 409: {"description": "Code taken"}})
async def update_canned(reply_id: uuid.UUID, body: CannedReplyUpdate, _: AdminStaff,
                        services: ServicesDep) -> CannedReplyOut:
    try:
        async with services.db.transaction() as s:
            row = await s.get(CannedReply, reply_id)
            if row is None:
                raise NotFound("Canned reply not found", code="canned_reply_not_found")
            if body.short_code is not None:
                row.short_code = body.short_code
            if body.content is not None:
                row.content = body.content
            await s.flush()
    except IntegrityError as exc:
        raise Conflict("A canned reply with this short code exists", code="short_code_taken") from exc
    return _reply_out(row)


@router.delete("/canned-replies/{reply_id}", status_code=204,
               responses={**_ADMIN, 404: {"description": "Unknown canned reply"}})
async def delete_canned(reply_id: uuid.UUID, _: AdminStaff, services: ServicesDep) -> Response:
    async with services.db.transaction() as s:
        row = await s.get(CannedReply, reply_id)
        if row is None:
            raise NotFound("Canned reply not found", code="canned_reply_not_found")
        await s.delete(row)
    return Response(status_code=204)
