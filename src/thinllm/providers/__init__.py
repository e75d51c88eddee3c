"""Vendor adapters: one module per wire format.

- ``anthropic``: Anthropic Messages (``Anthropic``, ``AnthropicBedrock``, ``AnthropicVertex``).
- ``openai_chat``: OpenAI Chat Completions (``OpenAI``, ``AzureOpenAI``, compatible servers).
- ``openai_responses``: OpenAI Responses.
"""

from __future__ import annotations

from ._base import OutputSpec, Parsed, Provider, StreamParser, detect

__all__ = ["OutputSpec", "Parsed", "Provider", "StreamParser", "adapter_for", "detect"]


def adapter_for(api: str) -> Provider:
    """The adapter for ``api`` (``"messages"``, ``"chat"`` or ``"responses"``)."""
    if api == "messages":
        from .anthropic import AnthropicMessages

        return AnthropicMessages()
    if api == "chat":
        from .openai_chat import OpenAIChat

        return OpenAIChat()
    if api == "responses":
        from .openai_responses import OpenAIResponses

        return OpenAIResponses()
    from ..errors import ConfigurationError

    raise ConfigurationError(f"api= must be 'messages', 'chat' or 'responses', got {api!r}")
