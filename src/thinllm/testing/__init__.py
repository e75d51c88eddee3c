"""A fake Anthropic/OpenAI vendor for testing governed code offline.

The official ``anthropic`` and ``openai`` SDKs talk to :class:`FakeVendor` unmodified,
in process or over real HTTP on 127.0.0.1::

    fake = FakeVendor()
    fake.reply("positive")
    client = fake.anthropic(max_retries=0)
    client.messages.create(model="claude-sonnet-5-5", max_tokens=16,
                           messages=[{"role": "user", "content": "Great product!"}])
    fake.requests[-1].text   # "Great product!"

See docs/testing.md.
"""

from __future__ import annotations

from ._faults import Fault
from ._model import FakeReply, FakeRequest
from ._vendor import FakeVendor

__all__ = ["FakeReply", "FakeRequest", "FakeVendor", "Fault"]
