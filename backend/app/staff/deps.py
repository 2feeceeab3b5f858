"""The staff gate: a staff JWT (never a session token or an integrator key) and an active account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.requests import HTTPConnection

from app.db.models import StaffUser
from app.deps import ServicesDep
from app.errors import Unauthorized
from app.security import staff_tokens
from app.security.api_keys import Forbidden
from app.staff.enums import StaffRole
from app.state import Services

# Declares the bearer scheme in OpenAPI so /docs can authorise with the login form.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/login", auto_error=False)


def bearer(conn: HTTPConnection) -> str | None:
    scheme, _, value = conn.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def staff_from_token(services: Services, token: str | None) -> StaffUser:
    """401 unless `token` is a valid staff JWT of an account that exists and is active right now."""
    claims = staff_tokens.verify(services.settings.secret_key, token or "")
    if claims is None:
        raise Unauthorized("Missing or invalid staff token", code="invalid_staff_token")
    user = await services.staff.users.get(claims.staff_id)
    if user is None or not user.active:
        raise Unauthorized("This staff account is disabled or gone", code="staff_disabled")
    return user


async def get_current_staff(request: Request, services: ServicesDep,
                            _token: Annotated[str | None, Depends(oauth2_scheme)] = None) -> StaffUser:
    return await staff_from_token(services, bearer(request))


CurrentStaff = Annotated[StaffUser, Depends(get_current_staff)]


async def get_admin_staff(user: CurrentStaff) -> StaffUser:
    if user.role != StaffRole.ADMIN:
        raise Forbidden("Only admins may do this", code="admin_only")
    return user


AdminStaff = Annotated[StaffUser, Depends(get_admin_staff)]
