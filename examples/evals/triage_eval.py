"""An eval spec that runs offline: support-ticket triage against the fake vendor.

Run it from the repository root:

    thinllm eval run examples/evals/triage_eval.py --out runs/triage
    thinllm eval rotate examples/evals/triage_eval.py \
        --from claude-sonnet-5-5 --to claude-haiku-4-5 --out runs/rotate

In a real spec the routes hold your own ``anthropic.AsyncAnthropic()`` /
``openai.AsyncOpenAI()`` clients; here a keyword "model" stands in for a real one, and
``claude-haiku-4-5`` is deliberately worse at spotting bugs.
"""

from __future__ import annotations

import thinllm
from thinllm.evals import Contains, Eval, Exact, template
from thinllm.testing import FakeReply, FakeRequest, FakeVendor

LABELS = ("billing", "bug", "account", "other")

KEYWORDS = {
    "billing": ("charged", "invoice", "refund", "payment", "receipt", "discount", "card"),
    "bug": ("crash", "blank", "error", "freezes", "off by one"),
    "account": ("log in", "email address", "admin", "delete my account", "two-factor"),
}


def keyword_model(request: FakeRequest) -> FakeReply:
    """A stand-in model: the first label whose keywords appear in the ticket."""
    ticket = request.text.lower()
    for label, words in KEYWORDS.items():
        if request.model == "claude-haiku-4-5" and label == "bug":
            continue  # the cheaper model misses bugs
        if any(w in ticket for w in words):
            return FakeReply(text=label)
    return FakeReply(text="other")


fake = FakeVendor()
fake.reply(keyword_model)

EVAL = Eval(
    "support-triage",
    cases="triage_cases.jsonl",
    prompt=template(
        system="Classify the support ticket. Answer with one word: " + ", ".join(LABELS) + ".",
        user_text="Ticket: {ticket}",
    ),
    graders=[
        Exact(ignore_case=True, ignore_punctuation=True),
        Contains(list(LABELS), name="is_a_label", required=False, weight=0.5),
    ],
    routes=[
        thinllm.Route(fake.async_anthropic(), model="claude-sonnet-5-5"),
        thinllm.Route(fake.async_anthropic(), model="claude-haiku-4-5"),
    ],
    options={"max_tokens": 8},
    epochs=3,
)
