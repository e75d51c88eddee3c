"""The system under test, seen by the runner as a :class:`Target`.

A target turns a ``Prompt`` into a :class:`Generation`. :class:`ClientTarget` sends it
through a ``thinllm.Client`` route, so eval calls are tagged, audited, priced and
retried like production calls; :class:`FunctionTarget` wraps any function, for
pipelines that are more than one call (RAG, agents) or for tests.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from thinllm.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from thinllm._prompt import Prompt
    from thinllm._reply import Reply
    from thinllm._tags import Tags

__all__ = ["ClientTarget", "FunctionTarget", "Generation", "Target", "complete_via", "from_reply"]


@dataclass(frozen=True, slots=True)
class Generation:
    """What the system under test returned for one prompt, with its spend and timing."""

    text: str
    usage: Mapping[str, int]
    cost: Decimal | None = None
    latency_ms: float = 0.0
    retries: int = 0
    attempts: tuple[Mapping[str, Any], ...] = ()
    model: str | None = None
    finish_reason: str | None = None
    tool_calls: tuple[Mapping[str, Any], ...] = ()
    parsed: Any = None

    def to_cache(self) -> dict[str, Any]:
        """The cached form (parsed values are re-derived by graders from the text)."""
        return {
            "text": self.text,
            "usage": dict(self.usage),
            "cost": None if self.cost is None else str(self.cost),
            "latency_ms": self.latency_ms,
            "model": self.model,
            "finish_reason": self.finish_reason,
            "tool_calls": [dict(c) for c in self.tool_calls],
        }

    @classmethod
    def from_cache(cls, data: Mapping[str, Any]) -> Generation:
        """Rebuild a cached generation."""
        return cls(
            text=data["text"],
            usage=data.get("usage") or {},
            cost=None if data.get("cost") is None else Decimal(data["cost"]),
            latency_ms=float(data.get("latency_ms", 0.0)),
            model=data.get("model"),
            finish_reason=data.get("finish_reason"),
            tool_calls=tuple(data.get("tool_calls") or ()),
        )


@runtime_checkable
class Target(Protocol):
    """The system under test. ``arm`` labels it in reports; ``model`` goes into the
    generation cache key together with :meth:`request`."""

    arm: str
    model: str

    def request(self, prompt: Prompt) -> Any:
        """The exact request this prompt becomes (JSON-serialisable; the cache key)."""
        ...

    async def generate(self, prompt: Prompt) -> Generation:
        """Run the prompt; raise on failure (the runner records the error)."""
        ...


def from_reply(reply: Reply, latency_ms: float) -> Generation:
    """A :class:`Generation` from a ``thinllm.Reply``."""
    return Generation(
        text=reply.text,
        usage=reply.usage.as_dict(),
        cost=reply.cost,
        latency_ms=latency_ms,
        retries=max(0, len(reply.attempts) - 1),
        attempts=tuple(a.as_dict() for a in reply.attempts),
        model=reply.model,
        finish_reason=reply.finish_reason,
        tool_calls=tuple(
            {"name": c.name, "arguments": dict(c.arguments)} for c in reply.tool_calls
        ),
        parsed=reply.parsed,
    )


async def complete_via(client: Any, route: Any, prompt: Prompt, **kwargs: Any) -> Reply:
    """``client.acomplete`` when the route holds an async vendor client, else
    ``client.complete`` in a worker thread (so sync routes can be evaluated too)."""
    if getattr(route, "is_async", True):
        reply: Reply = await client.acomplete(prompt, route=route, **kwargs)
        return reply
    loop = asyncio.get_running_loop()
    call = functools.partial(client.complete, prompt, route=route, **kwargs)
    return await loop.run_in_executor(_executor(), call)


_POOL: concurrent.futures.ThreadPoolExecutor | None = None


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    # The default executor has min(32, cpus + 4) threads: too few for concurrency=20 on
    # a small CI box. Threads only wait on sockets here.
    global _POOL
    if _POOL is None:
        _POOL = concurrent.futures.ThreadPoolExecutor(64, thread_name_prefix="thinllm-eval")
    return _POOL


class ClientTarget:
    """Sends prompts through one route of a ``thinllm.Client`` (no fallback: an eval
    measures the route it names). ``route`` is a route name or a ``thinllm.Route``
    (which need not be one of the client's own, e.g. a model being rotated in)."""

    def __init__(
        self,
        client: Any,
        route: Any,
        *,
        options: Mapping[str, Any] | None = None,
        tags: Tags | None = None,
        output: Any = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.client = client
        if isinstance(route, str):
            found = [r for r in client.routes if route in (r.name, r.model)]
            if not found:
                raise ConfigurationError(f"the client has no route named {route!r}")
            route = found[0]
        self.route = route
        self.arm = str(self.route.name)
        self.model = str(self.route.model)
        self.options = dict(options or {})
        self.tags = tags
        self.output = output
        self._clock = clock

    def request(self, prompt: Prompt) -> Any:
        """``client.render(...)``: the exact vendor request."""
        extra: dict[str, Any] = {} if self.output is None else {"output": self.output}
        return self.client.render(prompt, route=self.route, **extra, **self.options)

    async def generate(self, prompt: Prompt) -> Generation:
        """One governed call on this route, timed."""
        start = self._clock()
        extra: dict[str, Any] = {} if self.output is None else {"output": self.output}
        reply = await complete_via(
            self.client, self.route, prompt, tags=self.tags, **extra, **self.options
        )
        return from_reply(reply, (self._clock() - start) * 1000)


class FunctionTarget:
    """Any function ``fn(prompt) -> str | Generation`` (sync or async) as the system under
    test. Its ``name`` (default: the function's) stands in for the model in cache keys:
    change it when the function's behaviour changes."""

    def __init__(
        self,
        fn: Callable[[Prompt], str | Generation | Awaitable[str | Generation]],
        *,
        name: str | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.fn = fn
        self.arm: str = str(name or getattr(fn, "__name__", "function"))
        self.model = self.arm
        self._clock = clock

    def request(self, prompt: Prompt) -> Any:
        """A canonical form of the prompt (there is no vendor request to show)."""
        return {
            "static": prompt.static_hash(),
            "messages": [[m.role, m.text] for m in prompt.messages],
        }

    async def generate(self, prompt: Prompt) -> Generation:
        """Call the function (awaiting it if needed), timed."""
        start = self._clock()
        value = self.fn(prompt)
        if inspect.isawaitable(value):
            value = await value
        latency = (self._clock() - start) * 1000
        if isinstance(value, Generation):
            return value
        return Generation(text=str(value), usage={}, latency_ms=latency)
