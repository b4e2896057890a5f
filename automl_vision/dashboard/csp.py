"""The page's Content-Security-Policy and the security headers of every dashboard response.

The page runs only its own inline script and style, allowed by their SHA-256 hashes (no
``'unsafe-inline'``): text from a store that escaped escaping could still not run a script or an
event handler. It loads nothing from anywhere; the live page may fetch its own ``api/body``.
Every other response (JSON, fragments, errors) gets ``STRICT_POLICY``: nothing at all.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

__all__ = ["SECURITY_HEADERS", "STRICT_POLICY", "page_policy", "source_hash"]

#: what no response of the dashboard may do: load, embed, frame, post or change its base URL
_NOTHING = ("base-uri 'none'", "form-action 'none'")
#: frame-ancestors works only as a header (a <meta> policy ignores it, with a console warning)
_HEADER_ONLY = ("frame-ancestors 'none'",)

STRICT_POLICY = "; ".join(("default-src 'none'", *_NOTHING, *_HEADER_ONLY))

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)


def source_hash(text: str) -> str:
    """The CSP source that allows exactly this inline ``<script>`` or ``<style>`` text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def page_policy(
    scripts: Sequence[str], styles: Sequence[str], *, fetches: bool, header: bool
) -> str:
    """The policy of a page whose only code is ``scripts`` and ``styles`` (inline texts);
    ``fetches``: it may fetch from its own origin; ``header``: the HTTP header's form (with
    ``frame-ancestors``), else the ``<meta>`` tag's."""
    parts = [
        "default-src 'none'",
        "script-src " + (" ".join(source_hash(s) for s in scripts) or "'none'"),
        "style-src " + (" ".join(source_hash(s) for s in styles) or "'none'"),
        "connect-src " + ("'self'" if fetches else "'none'"),
        *_NOTHING,
        *(_HEADER_ONLY if header else ()),
    ]
    return "; ".join(parts)
