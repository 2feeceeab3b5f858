"""A small OpenAI-compatible chat-completions server for tests (real HTTP, real SSE).

Replies come from `script` (a queue of scripted steps) when it is not empty, otherwise from a
tiny rule-based "model" good enough for conversation tests: it searches the knowledge base, quotes
what comes back with [1], answers from <memory> and <attachment> data it was given.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class Step:
    """One scripted reply: text, tool calls, an HTTP error, a delay, or a stream that breaks."""

    text: str = ""
    tool_calls: list[tuple[str, Any]] = field(default_factory=list)  # (name, arguments dict or raw string)
    status: int = 200
    delay: float = 0.0
    break_after: int | None = None  # drop the connection after this many text chunks


class FakeOpenAI:
    def __init__(self) -> None:
        self.script: list[Step] = []
        self.requests: list[dict[str, Any]] = []
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FakeOpenAI:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        # Listening before uvicorn starts: early connections wait in the backlog, no polling needed.
        sock.listen(128)
        port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/v1/chat/completions", self._completions, methods=["POST"])])
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        self.url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        await self._task

    async def _completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        step = self.script.pop(0) if self.script else self._policy(body)
        if step.delay:
            await asyncio.sleep(step.delay)
        if step.status != 200:
            return JSONResponse({"error": {"message": "scripted failure", "type": "server_error"}},
                                status_code=step.status)
        return StreamingResponse(self._sse(step, body.get("model", "m")), media_type="text/event-stream")

    async def _sse(self, step: Step, model: str) -> AsyncIterator[bytes]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            data = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(data)}\n\n".encode()

        yield chunk({"role": "assistant", "content": ""})
        pieces = re.findall(r"\S+\s*", step.text)
        for n, piece in enumerate(pieces):
            if step.break_after is not None and n >= step.break_after:
                raise ConnectionResetError("scripted stream break")
            yield chunk({"content": piece})
        for i, (name, arguments) in enumerate(step.tool_calls):
            raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
            half = len(raw) // 2  # arguments arrive split over two chunks, as real servers do
            yield chunk({"tool_calls": [{"index": i, "id": f"call_{i}", "type": "function",
                                         "function": {"name": name, "arguments": raw[:half]}}]})
            yield chunk({"tool_calls": [{"index": i, "function": {"arguments": raw[half:]}}]})
        yield chunk({}, "tool_calls" if step.tool_calls else "stop")
        usage = {"prompt_tokens": 10, "completion_tokens": len(pieces), "total_tokens": 10 + len(pieces)}
        yield f"data: {json.dumps({'id': 'chatcmpl-1', 'object': 'chat.completion.chunk', 'created': 0, 'model': model, 'choices': [], 'usage': usage})}\n\n".encode()  # noqa: E501
        yield b"data: [DONE]\n\n"

    @staticmethod
    def _policy(body: dict[str, Any]) -> Step:
        messages = body["messages"]
        last = messages[-1]
        system = messages[0]["content"]
        if last["role"] == "tool":
            doc = re.search(r"<document index=\"(\d+)\"[^>]*>\n(.*?)\n</document>", last["content"], re.S)
            if doc:
                return Step(text=f"According to our help center [{doc.group(1)}]: {doc.group(2)[:600]}")
            return Step(text="I couldn't find that in our help center. Would you like a human agent?")
        user = last["content"]
        attachment = re.search(r"<attachment filename=\"([^\"]+)\">\n(.*?)\n</attachment>", user, re.S)
        if attachment:
            return Step(text=f"Your file {attachment.group(1)} says: {attachment.group(2)[:400]}")
        memory = dict(re.findall(r"^(\w+): (.+)$", system.split("<memory>")[-1], re.M)) if "<memory>" in system else {}
        asked = re.search(r"what (?:was|is) my ([\w ]+?)\?", user, re.I)
        if asked:
            key = asked.group(1).strip().replace(" ", "_").lower()
            return Step(text=f"Your {asked.group(1)} is {memory[key]}." if key in memory else "I don't know yet.")
        if any(value in user for value in memory.values()):
            return Step(text="Thanks, I've noted that.")
        return Step(tool_calls=[("rag_search", {"query": user})])
