"""Cheap construction of the frozen, slotted records built on every call.

A frozen dataclass's generated ``__init__`` stores each field through
``object.__setattr__``, which costs about twenty times a plain slot store. Every
governed call builds a :class:`~thinllm.CallEvent` (26 fields), a
:class:`~thinllm.Usage` and an :class:`~thinllm.Attempt`, and measured under
callgrind those constructors alone were about a fifth of thinllm's own work per call.

So the per-call path fills a *draft* instead: a plain class with exactly the frozen
class's slots, filled with ordinary attribute stores, whose ``__class__`` is then
switched to the frozen class. Python allows that switch between classes with identical
slot layouts; the result is an ordinary instance of the frozen class (same type,
equality, hash, repr and immutability). Every slot must be set before the switch: a
slot left unset would raise ``AttributeError`` when read (tests compare each fast
constructor with the dataclass's own).
"""

from __future__ import annotations

from typing import Any

__all__ = ["draft_of", "new"]

#: ``new(Draft)``: an empty draft (no ``__init__`` runs).
new = object.__new__


def draft_of(cls: type[Any]) -> type[Any]:
    """A plain class with ``cls``'s slot layout, for building ``cls`` instances cheaply."""
    return type(
        f"{cls.__name__}Draft",
        (),
        {"__slots__": cls.__slots__, "__module__": cls.__module__, "__doc__": draft_of.__doc__},
    )
