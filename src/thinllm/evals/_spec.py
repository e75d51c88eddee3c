"""An eval definition (:class:`Eval`) and loading one from a spec file.

A spec file is plain Python that defines ``EVAL = thinllm.evals.Eval(...)``; relative
case paths in it are read relative to the spec file.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from thinllm._prompt import Message, Prompt, assistant, user
from thinllm._tags import Tags
from thinllm.errors import ConfigurationError

from ._cases import Case, load_cases, sha256
from ._grading import grader_info, graders_fingerprint
from ._target import ClientTarget, FunctionTarget, Target

__all__ = ["Eval", "load_spec", "template"]


def template(system: str | None = None, user_text: str = "{input}") -> Callable[[Case], Prompt]:
    """A prompt function filling ``user_text`` (``str.format`` fields) from a case's
    template variables; a text input fills ``{input}``."""

    def build(case: Case) -> Prompt:
        variables = dict(case.input) if isinstance(case.input, Mapping) else {"input": case.input}
        try:
            text = user_text.format_map(variables)
        except KeyError as exc:
            raise ConfigurationError(
                f"case {case.id!r} has no template variable {exc.args[0]!r}"
            ) from None
        return Prompt(system, messages=[user(text)])

    return build


def default_prompt(case: Case) -> Prompt:
    """Text becomes one user message; a message list is replayed as written."""
    if isinstance(case.input, str):
        return Prompt(messages=[user(case.input)])
    if isinstance(case.input, list):
        messages: list[Message] = [
            user(m["content"]) if m["role"] == "user" else assistant(m["content"])
            for m in case.input
        ]
        return Prompt(messages=messages)
    raise ConfigurationError(
        f"case {case.id!r} has template variables as input: give the Eval a prompt= "
        "function (for example thinllm.evals.template(user_text='...{var}...'))"
    )


class Eval:
    """What to evaluate: cases, how each becomes a prompt, how outputs are graded, and
    the system under test.

    - ``cases``: a golden-set path or a list of dicts/:class:`Case`.
    - ``prompt``: ``case -> thinllm.Prompt`` (default: text or messages as written).
    - ``graders``: see ``thinllm.evals.Exact`` and friends, or any function.
    - The system under test is one of: ``client`` (a ``thinllm.Client``; ``arm`` names
      the route), ``routes`` (``thinllm.Route`` objects; a client is built for them), or
      ``target`` (a :class:`Target` or a function ``prompt -> text``).
    - ``options``: call options (``max_tokens``, ``temperature``, ...); ``tags``: added to
      every call, with ``workflow="eval:<name>"`` unless given; ``output``: a
      structured-output type passed to the client.
    - ``epochs``: repeats per case (``None``: 3 from the command line, 1 otherwise).
    - ``threshold``: the weighted score a case must also reach (default: only required
      graders decide). ``metric``: ``"pass"`` or ``"score"`` for comparisons.
    - ``margin``: the drop (0.02 = 2 points) that counts as a regression; ``alpha``: the
      significance level; ``max_error_rate``: errors above this share fail the harness.
    - ``batch``: send the uncached generations as one vendor batch, at the batch rate
      (hours of latency instead of seconds; see docs/evals.md "Batch mode").
    """

    def __init__(
        self,
        name: str,
        *,
        cases: str | os.PathLike[str] | Iterable[Mapping[str, Any] | Case],
        graders: Sequence[Any],
        prompt: Callable[[Case], Prompt] | None = None,
        client: Any = None,
        routes: Sequence[Any] = (),
        arm: str | None = None,
        target: Target | Callable[[Prompt], Any] | None = None,
        options: Mapping[str, Any] | None = None,
        tags: Tags | Mapping[str, str] | None = None,
        output: Any = None,
        epochs: int | None = None,
        concurrency: int = 8,
        timeout: float | None = 120.0,
        threshold: float | None = None,
        metric: str = "pass",
        margin: float = 0.02,
        alpha: float = 0.05,
        max_error_rate: float = 0.1,
        seed: int = 0,
        batch: bool = False,
    ) -> None:
        if not graders:
            raise ConfigurationError("an Eval needs at least one grader")
        if metric not in ("pass", "score"):
            raise ConfigurationError("metric= is 'pass' or 'score'")
        if sum(x is not None and x != () for x in (client, target, tuple(routes))) > 1:
            raise ConfigurationError("give the Eval one of client=, routes= or target=")
        if epochs is not None and epochs < 1:
            raise ConfigurationError("epochs must be >= 1")
        if concurrency < 1:
            raise ConfigurationError("concurrency must be >= 1")
        self.name = name
        self.cases_source = cases if isinstance(cases, str | os.PathLike) else list(cases)
        self.graders = list(graders)
        self.prompt = prompt or default_prompt
        self.client = client
        self.routes = list(routes)
        self.arm = arm
        self.target = target
        self.options = dict(options or {})
        base = Tags(**tags) if isinstance(tags, Mapping) else (tags or Tags())
        self.tags = base if base.workflow else base.merged(Tags(workflow=f"eval:{name}"))
        self.output = output
        self.epochs = epochs
        self.concurrency = concurrency
        self.timeout = timeout
        self.threshold = threshold
        self.metric = metric
        self.margin = margin
        self.alpha = alpha
        self.max_error_rate = max_error_rate
        self.seed = seed
        self.batch = batch
        self.base_dir: Path | None = None
        self._cases: list[Case] | None = None
        for g in self.graders:
            grader_info(g)  # fail early on a grader with bad attributes

    def with_options(self, **changes: Any) -> Eval:
        """A copy with some attributes replaced (``epochs=5``, ``arm="openai"``, ...)."""
        new = copy.copy(self)
        for key, value in changes.items():
            if not hasattr(new, key):
                raise ConfigurationError(f"Eval has no option {key!r}")
            setattr(new, key, value)
        return new

    def load_cases(self) -> list[Case]:
        """The cases (read once; relative paths are relative to the spec file)."""
        if self._cases is None:
            source = self.cases_source
            if isinstance(source, str | os.PathLike) and self.base_dir is not None:
                source = self.base_dir / source
            self._cases = load_cases(source)
        return self._cases

    @property
    def graders_fingerprint(self) -> str:
        """A hash of the grader configuration (part of every case hash)."""
        return graders_fingerprint(self.graders) + (
            "" if self.threshold is None else f"@{self.threshold}"
        )

    def dataset_hash(self) -> str:
        """A hash of every case's id and content."""
        return sha256([[c.id, c.content_hash, c.critical, list(c.tags)] for c in self.load_cases()])

    def arms(self) -> list[str]:
        """The route names (or the target's name) this eval can run."""
        if self.target is not None:
            return [self._target(None).arm]
        client = self._client()
        return [_route_name(r) for r in getattr(client, "routes", ())]

    def make_target(self, arm: str | None = None, *, like: str | None = None) -> Target:
        """The system under test for ``arm`` (a route name or model; default: ``self.arm``
        or the first route). With ``like``, a model that is not one of the routes is
        run on a copy of route ``like`` (same vendor client and API): how a model
        rotation tries a new model."""
        if like is not None and arm is not None and self.target is None:
            routes = list(getattr(self._client(), "routes", ()))
            if not any(arm in (_route_name(r), getattr(r, "model", None)) for r in routes):
                import thinllm

                base = _find_route(routes, like)
                route = thinllm.Route(base.client, model=arm, name=arm, api=base.api)
                # A client of its own: thinllm.Client only sends through its own routes.
                # (It has no sinks: pass the model as a route of the spec to audit it.)
                return ClientTarget(
                    thinllm.Client(routes=[route]),
                    route,
                    options=self.options,
                    tags=self.tags,
                    output=self.output,
                )
        return self._target(arm or self.arm)

    def _target(self, arm: str | None) -> Target:
        if self.target is not None:
            if isinstance(self.target, Target):
                return self.target
            return FunctionTarget(self.target)
        client = self._client()
        routes = list(getattr(client, "routes", ()))
        if not routes:
            raise ConfigurationError(f"eval {self.name!r}: the client has no routes")
        route = routes[0] if arm is None else _find_route(routes, arm)
        return ClientTarget(
            client,
            route,
            options=self.options,
            tags=self.tags,
            output=self.output,
        )

    def _client(self) -> Any:
        if self.client is None:
            if not self.routes:
                raise ConfigurationError(
                    f"eval {self.name!r} has no system under test: give client=, routes= or target="
                )
            import thinllm

            self.client = thinllm.Client(routes=self.routes)
        return self.client

    def __repr__(self) -> str:
        return f"<Eval {self.name!r} graders={len(self.graders)}>"


def _route_name(route: Any) -> str:
    return str(getattr(route, "name", None) or getattr(route, "model", "route"))


def _find_route(routes: Sequence[Any], arm: str) -> Any:
    for route in routes:
        if arm in (_route_name(route), getattr(route, "model", None)):
            return route
    names = ", ".join(_route_name(r) for r in routes)
    raise ConfigurationError(f"no route named {arm!r} (routes: {names})")


def load_spec(path: str | os.PathLike[str]) -> Eval:
    """Import a spec file and return its ``EVAL`` (paths resolved next to the file)."""
    p = Path(path).resolve()
    if not p.is_file():
        raise ConfigurationError(f"eval spec {path} not found")
    name = f"_thinllm_eval_spec_{sha256(str(p))[:12]}"
    spec = importlib.util.spec_from_file_location(name, p)
    if spec is None or spec.loader is None:
        raise ConfigurationError(f"cannot import eval spec {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        sys.modules.pop(name, None)
        raise
    found = getattr(module, "EVAL", None)
    if not isinstance(found, Eval):
        raise ConfigurationError(f"{path} must define EVAL = thinllm.evals.Eval(...)")
    found.base_dir = p.parent
    return found
