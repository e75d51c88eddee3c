"""Route health: garbage answers count against a route's circuit; deadlines are call-wide."""

from __future__ import annotations

import pytest

from thinllm import Circuit, Client, ConfigurationError, Prompt, Retry, Route, user
from thinllm.testing import FakeVendor, Fault


class TestRouteHealth:
    def test_malformed_answers_open_the_circuit(self, fake: FakeVendor) -> None:
        """A vendor answering garbage is skipped after N such answers, like one that is down."""
        fake.fail(Fault.malformed(), times=None, vendor="openai")
        client = Client(
            [Route(fake.openai(), model="gpt-6.1-terra", name="bad"), Route(fake.anthropic(), model="claude-sonnet-5-5")],
            circuit=Circuit(failures=2, cooldown=60),
        )
        prompt = Prompt(messages=[user("hi")])
        for _ in range(3):
            client.complete(prompt, max_tokens=8)
        assert client.health()["bad"]["circuit"] == "open"
        assert [r.vendor for r in fake.requests].count("openai") == 2

    def test_route_level_deadline_is_refused(self, fake: FakeVendor) -> None:
        """A deadline bounds the whole call, so Route(retry=Retry(deadline=...)) says where to put it."""
        with pytest.raises(ConfigurationError, match="whole call"):
            Route(fake.openai(), model="gpt-6.1-terra", retry=Retry(deadline=5))
