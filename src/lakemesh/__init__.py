"""lakemesh: a self-hosted data mesh."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakemesh.sdk import Client

__version__ = "0.1.0"

__all__ = ["Client", "__version__"]


def __getattr__(name: str) -> Any:
    # The SDK (and httpx) load only when `lakemesh.Client` is used, not on every `import lakemesh`.
    if name == "Client":
        from lakemesh.sdk import Client

        return Client
    raise AttributeError(f"module 'lakemesh' has no attribute {name!r}")
