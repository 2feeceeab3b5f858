import uuid

from app.db.engine import Database
from app.tools.base_tool import ToolContext
from app.tools.memory_facts import extract_facts, recall_request
from app.tools.memory_tool import MemoryTool
from tests.tools.conftest import new_chat_session


async def test_facts_are_kept_per_user_across_sessions_and_per_session_for_anonymous(db: Database) -> None:
    tool = MemoryTool(db)
    first = ToolContext(session_id=await new_chat_session(db, "u-1"), user_id="u-1")
    later = ToolContext(session_id=await new_chat_session(db, "u-1"), user_id="u-1")
    stranger = ToolContext(session_id=await new_chat_session(db))

    saved = await tool.run(first, action="remember", key="order_number", value="TH-12345")
    assert saved.success
    await tool.run(stranger, action="remember", key="order_number", value="TH-99999")
    recalled = await tool.run(later, action="recall", key="order_number")
    assert recalled.data == {"order_number": "TH-12345"}
    assert (await tool.run(stranger, action="recall")).data == {"order_number": "TH-99999"}

    await tool.run(later, action="remember", key="order_number", value="TH-55555")  # a correction replaces
    assert (await tool.load(first)).facts == {"order_number": "TH-55555"}

    missing = await tool.run(first, action="remember", key="email")
    assert not missing.success and "value" in (missing.error or "")


async def test_a_snapshot_read_before_remembering_equals_a_load_after_it(db: Database) -> None:
    """The turn service reads memory with the stored question, before this turn's facts are remembered:
    `with_new` must give what a load after remembering gives (new facts first, replacing their keys,
    within max_facts)."""
    tool = MemoryTool(db, max_facts=3)
    context = ToolContext(session_id=await new_chat_session(db, "u-3"), user_id="u-3")
    for key, value in (("email", "a@example.com"), ("name", "Ana"), ("phone", "555-0100")):
        await tool.remember(context, {key: value})
    async with db.sessionmaker() as session:
        before = await tool.read(session, context)
    new = {"order_number": "TH-77777", "email": "ana@example.com"}
    await tool.remember(context, new)
    after = await tool.load(context)
    merged = tool.with_new(before, new)
    assert merged.facts == after.facts == {"order_number": "TH-77777", "email": "ana@example.com",
                                           "phone": "555-0100"}  # the oldest ("name") no longer fits
    assert set(list(merged.facts)[:2]) == set(new)  # the newest first, as a load orders them


async def test_running_summary_belongs_to_its_session(db: Database) -> None:
    tool = MemoryTool(db)
    one = ToolContext(session_id=await new_chat_session(db, "u-2"), user_id="u-2")
    two = ToolContext(session_id=await new_chat_session(db, "u-2"), user_id="u-2")
    await tool.save_summary(one, "- Customer: asked about returns")
    await tool.save_summary(one, "- Customer: asked about returns\n- Customer: asked about refunds")
    assert (await tool.load(one)).summary.endswith("refunds")
    assert (await tool.load(two)).summary == ""
    assert (await tool.load(one)).facts == {}


def test_facts_and_recall_questions_are_recognised() -> None:
    assert extract_facts("Hi, my order number is TH-12345 and my email is jo@example.com") == {
        "order_number": "TH-12345", "email": "jo@example.com"}
    assert extract_facts("My name is Dana Whitfield") == {"name": "Dana Whitfield"}
    assert extract_facts("I'd prefer to be contacted by phone") == {"preferred_contact": "phone"}
    assert extract_facts("How do I find my order number?") == {}
    assert extract_facts("this is ridiculous") == {}
    assert recall_request("what was my order number?") == ["order_number"]
    assert recall_request("Do you remember my email?") == ["email"]
    assert recall_request("What do you know about me?") == []
    assert recall_request("What is the status of my order?") is None
    assert recall_request("How do I change my email?") is None


async def test_loading_memory_goes_through_the_wrapper_retries_and_breaker(tmp_path) -> None:
    """memory.load outside a model call still gets the wrapper: a broken database (here: never migrated)
    is retried, then trips the breaker, and never raises into the turn."""
    from app.tools.registry import ToolRegistry
    from app.tools.tool_call_wrapper import ResiliencePolicy

    broken = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    memory = MemoryTool(broken)
    registry = ToolRegistry([memory], {"memory": ResiliencePolicy(max_retries=1, breaker_fail_max=2,
                                                                  backoff_base_seconds=0.001)})
    context = ToolContext(session_id=uuid.uuid4())
    try:
        first = await registry.run_operation("memory", lambda: memory.load(context))
        assert not first.success and first.metadata["attempts"] == 2  # retried once: OperationalError is transient
        second = await registry.run_operation("memory", lambda: memory.save_summary(context, "s"))
        assert not second.success
        third = await registry.run_operation("memory", lambda: memory.load(context))
        assert third.metadata["status"] == "breaker_open" and third.metadata["attempts"] == 0  # not even tried
    finally:
        await broken.dispose()
