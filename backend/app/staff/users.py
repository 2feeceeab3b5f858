"""Staff accounts: create, authenticate, list, update; the first admin from settings."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import anyio
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.db.engine import Database
from app.db.models import StaffUser, utcnow
from app.errors import Conflict, NotFound, Unprocessable
from app.security.passwords import hash_password, password_problem, verify_password
from app.staff.enums import StaffRole

log = logging.getLogger("app.staff.users")


@dataclass(frozen=True)
class StaffChanges:
    name: str | None = None
    role: StaffRole | None = None
    active: bool | None = None
    password: str | None = None


def normalise_email(email: str) -> str:
    return email.strip().lower()


class StaffUsers:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, staff_id: uuid.UUID) -> StaffUser | None:
        async with self.db.sessionmaker() as s:
            return await s.get(StaffUser, staff_id)

    async def count(self) -> int:
        async with self.db.sessionmaker() as s:
            return int(await s.scalar(select(func.count()).select_from(StaffUser)) or 0)

    async def list(self) -> list[StaffUser]:
        async with self.db.sessionmaker() as s:
            return list(await s.scalars(select(StaffUser).order_by(StaffUser.created_at)))

    async def create(self, email: str, name: str, role: StaffRole, password: str) -> StaffUser:
        problem = password_problem(password)
        if problem:
            raise Unprocessable(problem, code="weak_password")
        password_hash = await anyio.to_thread.run_sync(hash_password, password)
        try:
            async with self.db.transaction() as s:
                user = StaffUser(email=normalise_email(email), name=name.strip(), role=role.value,
                                 password_hash=password_hash, active=True)
                s.add(user)
                await s.flush()
        except IntegrityError as exc:
            raise Conflict("A staff account with this email exists", code="staff_exists") from exc
        log.info("staff.user.created", extra={"role": role.value})
        return user

    async def update(self, staff_id: uuid.UUID, changes: StaffChanges) -> StaffUser:
        password_hash = None
        if changes.password is not None:
            problem = password_problem(changes.password)
            if problem:
                raise Unprocessable(problem, code="weak_password")
            password_hash = await anyio.to_thread.run_sync(hash_password, changes.password)
        async with self.db.transaction() as s:
            user = await s.get(StaffUser, staff_id, with_for_update=True)
            if user is None:
                raise NotFound("Staff user not found", code="staff_not_found")
            if changes.name is not None:
                user.name = changes.name.strip()
            if changes.role is not None:
                user.role = changes.role.value
            if changes.active is not None:
                user.active = changes.active
            if password_hash is not None:
                user.password_hash = password_hash
        return user

    async def authenticate(self, email: str, password: str) -> StaffUser | None:
        """The active account with this email and password, else None, in the same time either way."""
        async with self.db.sessionmaker() as s:
            user = await s.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))
        stored = user.password_hash if user is not None else None
        ok = await anyio.to_thread.run_sync(verify_password, password, stored)
        if not ok or user is None or not user.active:
            return None
        async with self.db.transaction() as s:
            current = await s.get(StaffUser, user.id)
            if current is not None:
                current.last_login_at = utcnow()
        return user

    async def ensure_first_superuser(self, settings: Settings) -> None:
        """FIRST_SUPERUSER / FIRST_SUPERUSER_PASSWORD become an admin when no staff account exists yet."""
        if not settings.first_superuser or await self.count() > 0:
            return
        try:
            await self.create(settings.first_superuser, "Administrator", StaffRole.ADMIN,
                              settings.first_superuser_password)
            log.info("staff.first_superuser.created")
        except Conflict:  # another instance created it at the same moment
            pass
