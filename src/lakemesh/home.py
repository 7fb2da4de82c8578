"""The hub home on local disk: ``hub.db``, ``config.toml``, ``storage/``, ``profiles.toml``."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from lakemesh.errors import InvalidInputError, NotFoundError

DEFAULT_HOME = Path("~/.lakemesh")


def default_home() -> Path:
    """``LAKEMESH_HOME`` or ``~/.lakemesh``."""
    return Path(os.environ.get("LAKEMESH_HOME") or DEFAULT_HOME).expanduser()


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise InvalidInputError(f"Invalid TOML in {path}: {e}", details={"file": str(path)}) from e


def _write_toml(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (write a sibling, then rename), private to the owner."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(tomli_w.dumps(data))
    temporary.chmod(0o600)
    temporary.replace(path)


@dataclass(frozen=True)
class HubHome:
    """Paths and files of one hub home."""

    path: Path

    @property
    def config_file(self) -> Path:
        return self.path / "config.toml"

    @property
    def profiles_file(self) -> Path:
        return self.path / "profiles.toml"

    @property
    def storage(self) -> Path:
        return self.path / "storage"

    @property
    def database_file(self) -> Path:
        return self.path / "hub.db"

    def exists(self) -> bool:
        return self.config_file.exists()

    def config(self) -> dict[str, Any]:
        return _read_toml(self.config_file)

    def write_config(self, config: dict[str, Any]) -> None:
        _write_toml(self.config_file, config)

    def database_url(self) -> str:
        """``LAKEMESH_DATABASE_URL``, else ``config.toml``'s ``database_url``, else ``hub.db``."""
        return (
            os.environ.get("LAKEMESH_DATABASE_URL")
            or self.config().get("database_url")
            or f"sqlite:///{self.database_file}"
        )

    def profiles(self) -> dict[str, Any]:
        return _read_toml(self.profiles_file)

    def profile_name(self, name: str | None) -> str:
        """``name``, or the default profile's name when ``None``."""
        return name or str(self.profiles().get("default_profile") or "default")

    def profile(self, name: str | None) -> dict[str, Any]:
        """A CLI identity (``token``, optional ``hub``); ``None`` means the default profile."""
        profiles = self.profiles()
        name = name or profiles.get("default_profile") or "default"
        found = profiles.get("profiles", {}).get(name)
        if found is None:
            raise NotFoundError(
                f"Profile does not exist: {name} (in {self.profiles_file})",
                details={"profile": name},
            )
        return dict(found)

    def save_profile(
        self, name: str, *, token: str, hub: str | None = None, make_default: bool = False
    ) -> None:
        profiles = self.profiles()
        entry: dict[str, Any] = {"token": token}
        if hub:
            entry["hub"] = hub
        profiles.setdefault("profiles", {})[name] = entry
        if make_default or "default_profile" not in profiles:
            profiles["default_profile"] = name
        _write_toml(self.profiles_file, profiles)
