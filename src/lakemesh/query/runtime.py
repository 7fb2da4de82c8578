"""What a hub process keeps for its queries: each workgroup engine, loaded once per engine and
configuration, and the hash masks' salt, read once."""

from __future__ import annotations

import threading

from lakemesh.errors import InvalidInputError
from lakemesh.hub import Hub
from lakemesh.query.engines import QueryEngine, load_engine
from lakemesh.query.workgroups import WorkgroupSettings

ENGINES_CACHE = "query_engines"
SALT_CACHE = "query_mask_salt"
_cache_lock = threading.Lock()


def workgroup_engine(hub: Hub, settings: WorkgroupSettings) -> QueryEngine:
    """The workgroup's engine, made once per hub process and engine configuration."""
    options = settings.engine_options()
    key = (settings.engine, tuple(sorted(options.items())))
    with _cache_lock:
        engines: dict[tuple[str, tuple[tuple[str, str], ...]], QueryEngine]
        engines = hub.caches.setdefault(ENGINES_CACHE, {})
        engine = engines.get(key)
        if engine is None:
            try:
                engine = load_engine(settings.engine, **options)
            except InvalidInputError as e:
                raise InvalidInputError(
                    f"Workgroup {settings.name} runs queries on the {settings.engine} engine, "
                    f"which is not available: {e.message}",
                    details={**e.details, "workgroup": settings.name},
                ) from e
            engines[key] = engine
    return engine


def mask_salt(hub: Hub) -> str:
    """The hash mask's salt, read (or made) once per hub process."""
    with _cache_lock:
        salt = hub.caches.get(SALT_CACHE)
        if not isinstance(salt, str):
            salt = hub.mask_salt()
            hub.caches[SALT_CACHE] = salt
    return salt
