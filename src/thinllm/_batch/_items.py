"""The pieces of a batch: items, their ids, failed items, and the batch's own errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ThinLLMError

if TYPE_CHECKING:
    from .._call import Call
    from .._prompt import Prompt
    from .._reply import Reply
    from .._tags import Tags
    from ._wire import ItemResult

__all__ = ["BatchNotEndedError", "FailedItem", "Item", "ItemError", "custom_id", "index_of"]


def custom_id(index: int) -> str:
    """The id of the prompt at ``index`` inside a batch (valid for both vendors)."""
    return f"item-{index}"


def index_of(cid: str) -> int | None:
    """The prompt index in a thinllm ``custom_id`` (``None`` for anyone else's id)."""
    prefix, _, number = cid.partition("-")
    return int(number) if prefix == "item" and number.isdigit() else None


class BatchNotEndedError(ThinLLMError, TimeoutError):
    """The batch has not ended yet: results are not available.

    Raised by ``results()`` on a running batch and by ``wait(timeout=...)``. Wait
    longer, or resume later with ``client.batch_job(job_id)``.
    """

    error_type = "batch_not_ended"

    def __init__(self, message: str, *, job_id: str, status: str) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.status = status


class ItemError(ThinLLMError):
    """How a failed batch item is recorded (``error.type`` is the vendor's)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


@dataclass(frozen=True, slots=True)
class FailedItem:
    """A batch item that got no answer: errored, expired or canceled.

    ``prompt`` is ``None`` for a job resumed by id (prompts are never stored).
    """

    index: int
    custom_id: str
    reason: str  # "errored" | "expired" | "canceled"
    error_type: str | None
    message: str | None
    tags: Tags
    prompt: Prompt | None


@dataclass(slots=True, eq=False)
class Item:
    """One prompt of a batch: its call state and, once collected, its reply."""

    index: int
    custom_id: str
    call: Call
    prompt: Prompt | None = None
    reply: Reply | None = None
    result: ItemResult | None = None
