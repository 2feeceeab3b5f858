"""The widget's look and first words (title, accent colour, welcome text, suggested questions): set by an
admin in the console (`GET/PUT /staff/widget-settings`), read by every widget through `/web/config`.

One row; until an admin saves, the defaults below apply (the chat works with no row at all).
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app.db.engine import Database
from app.db.models import WidgetSettingsRow
from app.deps import ServicesDep
from app.staff.deps import AdminStaff

log = logging.getLogger("app.staff")

_ROW_ID = 1
MAX_QUESTIONS = 6
DEFAULT_QUESTIONS = ["How do I reset my password?", "What is your return policy?", "How long does shipping take?"]

Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class WidgetSettings(BaseModel):
    """What an admin sets; the widget renders every string as text, never as HTML."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="Customer support", min_length=1, max_length=60)
    # Hex only: the value ends up in CSS, where a free-form string could smuggle more than a colour.
    color: str = Field(default="#2563eb", pattern=r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
    welcome_text: str = Field(default="Ask a question, attach a screenshot or a document, or ask to talk to a person.",
                              max_length=500)
    suggested_questions: list[Question] = Field(default_factory=lambda: list(DEFAULT_QUESTIONS),
                                                max_length=MAX_QUESTIONS)

    @field_validator("title", "welcome_text")
    @classmethod
    def _clean(cls, value: str) -> str:
        return _no_nul(value.strip())

    @field_validator("suggested_questions")
    @classmethod
    def _clean_questions(cls, value: list[str]) -> list[str]:
        for q in value:
            _no_nul(q)
        return list(dict.fromkeys(value))  # the same button twice helps nobody


async def load(db: Database) -> WidgetSettings:
    async with db.sessionmaker() as s:
        row = await s.get(WidgetSettingsRow, _ROW_ID)
    if row is None:
        return WidgetSettings()
    return WidgetSettings(title=row.title, color=row.color, welcome_text=row.welcome_text,
                          suggested_questions=list(row.suggested_questions))


async def save(db: Database, settings: WidgetSettings, staff_id: uuid.UUID) -> WidgetSettings:
    async with db.transaction() as s:
        row = await s.get(WidgetSettingsRow, _ROW_ID)
        if row is None:
            row = WidgetSettingsRow(id=_ROW_ID)
            s.add(row)
        row.title, row.color, row.welcome_text = settings.title, settings.color, settings.welcome_text
        row.suggested_questions = list(settings.suggested_questions)
        row.updated_by = staff_id
    log.info("staff.widget_settings.saved", extra={"questions": len(settings.suggested_questions)})
    return settings


router = APIRouter(prefix="/staff", tags=["staff"])
_ADMIN: dict[int | str, dict[str, Any]] = {401: {"description": "No valid staff token"},
                                           403: {"description": "Admins only"}}


@router.get("/widget-settings", response_model=WidgetSettings, responses=_ADMIN)
async def get_widget_settings(_: AdminStaff, services: ServicesDep) -> WidgetSettings:
    return await load(services.db)


@router.put("/widget-settings", response_model=WidgetSettings,
            responses={**_ADMIN, 422: {"description": "A field is too long, empty, or not a hex colour"}})
async def put_widget_settings(body: WidgetSettings, admin: AdminStaff, services: ServicesDep) -> WidgetSettings:
    return await save(services.db, body, admin.id)
