"""The NetSuite client: auth, SuiteQL builders, scans, errors. Talks to NetSuite; knows nothing of Resolve.

The package itself imports nothing heavy: `resolve_sync.netsuite.errors` or `.queries` must not pull in
httpx, oauthlib and cryptography for a CLI command that never talks to NetSuite. The client factory is
loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_FACTORY = ("build_client", "oauth2_tokens", "oauth2_token_fields")


def __getattr__(name: str) -> Any:
    if name in _FACTORY:
        return getattr(importlib.import_module("resolve_sync.netsuite.factory"), name)
    raise AttributeError(f"module 'resolve_sync.netsuite' has no attribute {name!r}")
