"""Staff access tokens: JWTs (PyJWT, HS256) signed with the settings' secret key.

A token names its audience (`staff`), so no other bearer credential of this service (session tokens,
integrator keys) can pass as one, and a staff token opens no customer route. The account is looked up on
every request, so a disabled user's token stops working at once.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

AUDIENCE = "staff"
ISSUER = "support-agent"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class StaffClaims:
    staff_id: uuid.UUID
    role: str
    expires_at: int


def issue(secret: str, staff_id: uuid.UUID, role: str, ttl_seconds: int) -> tuple[str, int]:
    now = int(time.time())
    claims = {"sub": str(staff_id), "role": role, "aud": AUDIENCE, "iss": ISSUER, "iat": now,
              "exp": now + ttl_seconds, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, secret, algorithm=ALGORITHM), ttl_seconds


def verify(secret: str, token: str) -> StaffClaims | None:
    """The claims of a valid, unexpired staff token, else None (never raises on bad input)."""
    if not token or len(token) > 4096:
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                            options={"require": ["exp", "sub", "aud", "iss"]})
        return StaffClaims(uuid.UUID(str(claims["sub"])), str(claims.get("role", "")), int(claims["exp"]))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
