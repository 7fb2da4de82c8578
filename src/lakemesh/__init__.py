"""lakemesh: a self-hosted data mesh."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakemesh._version import __version__

if TYPE_CHECKING:
    from lakemesh.sdk import Client


__all__ = ["Client", "__version__"]


def __getattr__(name: str) -> Any:
    # The SDK (and httpx) load only when `lakemesh.Client` is used, not on every `import lakemesh`.
    if name == "Client":
        from lakemesh.sdk import Client

        return Client
    raise AttributeError(f"module 'lakemesh' has no attribute {name!r}")
