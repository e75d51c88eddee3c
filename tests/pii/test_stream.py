"""Restoring pseudonyms in streamed replies, whatever the chunk boundaries."""

from __future__ import annotations

from thinllm import Tags
from thinllm.pii import Pseudonymize
from thinllm.pii._session import Session

PROMPT = "Customer jane@corp.com (+44 20 7946 0958) asks about card 4111 1111 1111 1111."
REPLY = "Hi <EMAIL_1>, we will call <PHONE_1> about <CREDIT_CARD_1>. <b>a < b</b> <EMAIL_9>"
RESTORED = (
    "Hi jane@corp.com, we will call +44 20 7946 0958 about 4111 1111 1111 1111. "
    "<b>a < b</b> <EMAIL_9>"
)


def session() -> Session:
    s = Pseudonymize().session(Tags())
    assert isinstance(s, Session)
    s.outgoing(PROMPT)
    return s


def run(chunks: list[str]) -> tuple[str, list[str]]:
    restorer = session().restorer()
    emitted = [restorer.feed(c) for c in chunks]
    emitted.append(restorer.flush())
    return "".join(emitted), emitted


class TestStreamRestorer:
    def test_split_at_every_position(self) -> None:
        """A placeholder cut in two at any character is still restored exactly once."""
        for i in range(len(REPLY) + 1):
            assert (RESTORED, i) == (run([REPLY[:i], REPLY[i:]])[0], i)

    def test_split_at_every_pair_of_positions(self) -> None:
        """Three chunks, any two cut points: the restored text is identical."""
        n = len(REPLY)
        for i in range(0, n + 1, 3):
            for j in range(i, n + 1):
                assert (RESTORED, i, j) == (run([REPLY[:i], REPLY[i:j], REPLY[j:]])[0], i, j)

    def test_one_character_chunks(self) -> None:
        """A vendor streaming one character at a time still yields the restored reply."""
        assert run(list(REPLY))[0] == RESTORED

    def test_ordinary_text_is_not_held_back(self) -> None:
        """Text that cannot be the start of a pseudonym is emitted immediately."""
        _, emitted = run(["Hi there, a < b and <b>", " done"])
        assert emitted == ["Hi there, a < b and <b>", " done", ""]

    def test_only_a_possible_prefix_is_held(self) -> None:
        """ "<EM" waits for the next chunk; everything before it goes out at once."""
        _, emitted = run(["Hi <EM", "AIL_1>!"])
        assert emitted == ["Hi ", "jane@corp.com!", ""]

    def test_unfinished_placeholder_is_flushed_as_is(self) -> None:
        """A stream that stops inside a placeholder emits the partial text at the end."""
        _, emitted = run(["Hi <EMAIL_"])
        assert emitted == ["Hi ", "<EMAIL_"]

    def test_restorers_are_independent(self) -> None:
        """Two streams of one session (e.g. a retried stream) do not share held text."""
        s = session()
        first, second = s.restorer(), s.restorer()
        assert first.feed("<EMAIL") == ""
        assert second.feed("x") == "x"
        assert first.feed("_1>") == "jane@corp.com"
