"""The package version, in a module of its own so the API and the CLI can read it without
importing the package's lazy ``Client`` (``lakemesh`` → ``sdk`` → ``api``)."""

from __future__ import annotations

__version__ = "0.1.0"
