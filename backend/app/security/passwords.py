"""Staff password hashing: Argon2id through pwdlib (a maintained library), never hand-rolled."""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256  # Argon2 takes any length; a cap keeps one login from costing megabytes

_hasher = PasswordHash((Argon2Hasher(),))
# Verified when the account does not exist, so an unknown email costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant work whether or not the account exists (`password_hash` None: verify a dummy)."""
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return bool(_hasher.verify(password, password_hash))
    except Exception:  # a malformed stored hash is a failed login, not a 500
        return False


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_CHARS:
        return f"Passwords need at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"Passwords may have at most {MAX_PASSWORD_CHARS} characters"
    if "\x00" in password:
        return "Passwords may not contain NUL characters"
    return None
