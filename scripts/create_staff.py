#!/usr/bin/env python3
"""Create a staff account (support agent or admin) in the configured database.

    python scripts/create_staff.py --email sam@example.com --name Sam [--role admin]

The password is read from the STAFF_PASSWORD environment variable or asked for (never an argument,
so it stays out of shell history and process lists). Uses the server's settings (.env / environment).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))

from app.config import Settings  # noqa: E402
from app.db import migrate  # noqa: E402
from app.db.engine import Database  # noqa: E402
from app.errors import AppError  # noqa: E402
from app.staff.enums import StaffRole  # noqa: E402
from app.staff.users import StaffUsers  # noqa: E402


async def create(email: str, name: str, role: StaffRole, password: str) -> int:
    settings = Settings()
    migrate.upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    try:
        user = await StaffUsers(db).create(email, name, role, password)
    except AppError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print(f"created {user.role} {user.email} ({user.id})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--role", choices=[r.value for r in StaffRole], default=StaffRole.AGENT.value)
    args = parser.parse_args()
    password = os.environ.get("STAFF_PASSWORD") or getpass.getpass("Password: ")
    return asyncio.run(create(args.email, args.name, StaffRole(args.role), password))


if __name__ == "__main__":
    raise SystemExit(main())
