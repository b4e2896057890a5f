"""Whether the Hugging Face hub can be reached, answered in seconds (no torch import).

``huggingface_hub`` retries a failed request with back-off for about a minute; a machine without
network should hear so at once. ``hub_unreachable`` tries one TCP connection to the hub's
endpoint with a short timeout.
"""

from __future__ import annotations

import socket
from urllib.parse import urlparse

__all__ = ["hub_unreachable"]


def hub_unreachable(timeout_s: float) -> str | None:
    """None when the hub accepts connections; else why not (offline mode, no route, ...)."""
    from huggingface_hub import constants

    if constants.is_offline_mode():
        return "HF_HUB_OFFLINE is set"
    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout_s):
            return None
    except OSError as err:
        return f"no network: {url.hostname}:{port} unreachable ({err})"
