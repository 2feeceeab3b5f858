"""How much SQL one customer turn costs: the statements and transactions on the message path.

Every statement is a hop to the database (on SQLite, to aiosqlite's thread and back) on the event loop's
critical path, so the turn is held to a fixed budget; a new query on the path has to earn its place here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import event


class StatementLog:
    def __init__(self, app: FastAPI) -> None:
        self.engine = app.state.services.db.engine.sync_engine
        self.statements: list[str] = []
        self.commits = 0
        self.checkouts = 0

    def __enter__(self) -> StatementLog:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        event.listen(self.engine.pool, "checkout", self._checkout)
        return self

    def __exit__(self, *exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine.pool, "checkout", self._checkout)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(" ".join(statement.split())[:100])

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def _checkout(self, *_: Any) -> None:
        self.checkouts += 1


async def test_a_turn_stores_question_and_reply_in_two_transactions_and_few_statements(app_client,
                                                                                     new_session) -> None:
    app, _ = app_client
    session = await new_session()
    assert (await session.send("How do I reset my password?")).status_code == 200  # history now exists
    with StatementLog(app) as log:
        response = await session.send("How long do I have to return an item?")
    assert response.status_code == 200, response.text
    assert response.json()["sources"], response.text
    # The question (with the session's activity) and the reply: one transaction each, nothing else written.
    assert log.commits == 2, log.statements
    # The session, the history, the conversation's files and the customer's memory are read inside the
    # question's transaction; the reply takes the position right after its question without asking for it.
    assert len(log.statements) <= 8, "\n".join(log.statements)
    assert log.checkouts == 2, "\n".join(log.statements)
    assert any(s.startswith("SELECT memories.") for s in log.statements), "\n".join(log.statements)
