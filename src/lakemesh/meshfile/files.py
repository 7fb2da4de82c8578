"""Reading and writing the mesh files: YAML in a stable layout, so that two exports of the same
mesh are byte-identical and a diff shows exactly what changed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from lakemesh.errors import InvalidInputError, NotFoundError, StorageError
from lakemesh.meshfile.model import (
    FILE_MODELS,
    FORMAT_VERSION,
    AccessFile,
    CatalogFile,
    DomainFile,
    DomainFolder,
    MeshFile,
    MeshFiles,
    ProductsFile,
    Spec,
)
from lakemesh.model.actors import GOVERNANCE

MESH_FILE = "mesh.yaml"
DOMAIN_FILE = "domain.yaml"
BOOL_TAG = "tag:yaml.org,2002:bool"


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's loader and dumper when PyYAML has them (a 5,000-table export reads in a second)."""


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """YAML 1.2 booleans: only true and false (``on:`` of a grant is a key, not True)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != BOOL_TAG]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def render(spec: Spec) -> str:
    """One file's YAML: defaults left out, the format version first, keys in declared order."""
    body = spec.model_dump(mode="json", exclude_defaults=True)
    body.pop("lakemesh_mesh", None)
    data = {"lakemesh_mesh": FORMAT_VERSION, **body}
    return yaml.dump(
        data,
        Dumper=_SafeDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def _is_empty(spec: Spec) -> bool:
    return not spec.model_dump(exclude_defaults=True, exclude={"lakemesh_mesh"})


def render_files(files: MeshFiles) -> dict[str, str]:
    """Every file of ``files`` by its path in the export folder (``sales/catalog.yaml``); files
    with nothing in them are left out, except ``domain.yaml``."""
    rendered: dict[str, str] = {}
    if files.mesh is not None:
        rendered[f"{GOVERNANCE}/{MESH_FILE}"] = render(files.mesh)
    for folder in files.domains:
        name = folder.domain.name
        rendered[f"{name}/{DOMAIN_FILE}"] = render(folder.domain)
        for file_name, spec in (
            ("catalog.yaml", folder.catalog),
            ("access.yaml", folder.access),
            ("products.yaml", folder.products),
        ):
            if not _is_empty(spec):
                rendered[f"{name}/{file_name}"] = render(spec)
    return dict(sorted(rendered.items()))


def write_files(files: MeshFiles, directory: Path) -> list[str]:
    """Write ``files`` into ``directory`` (created if missing) and return the paths written.

    Mesh files a previous export left there for domains or objects no longer in ``files`` are
    removed, so the folder is the export and nothing else of ours.
    """
    rendered = render_files(files)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for child in sorted(directory.iterdir()):
            if not child.is_dir():
                continue
            for file_name in FILE_MODELS:
                stale = child / file_name
                if stale.is_file() and f"{child.name}/{file_name}" not in rendered:
                    stale.unlink()
            if not any(child.iterdir()):
                child.rmdir()
        for relative, text in rendered.items():
            path = directory / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise StorageError(
            f"Cannot write the mesh files to {directory}: {e}", details={"path": str(directory)}
        ) from e
    return list(rendered)


def _load(path: Path, model: type[Spec]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise StorageError(f"Cannot read {path}: {e}", details={"path": str(path)}) from e
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        raise InvalidInputError(
            f"Invalid YAML in {path}: {e}", details={"path": str(path)}
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"Invalid mesh file {path}: expected a mapping at the top", details={"path": str(path)}
        )
    version = data.get("lakemesh_mesh", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise InvalidInputError(
            f"Unsupported mesh file format in {path}: lakemesh_mesh {version} "
            f"(this lakemesh reads {FORMAT_VERSION})",
            details={"path": str(path)},
        )
    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(top)'}: {error['msg']}"
            for error in e.errors()
        )
        raise InvalidInputError(
            f"Invalid mesh file {path}: {problems}",
            details={"path": str(path), "errors": json.loads(e.json(include_url=False))},
        ) from None


def _read_folder(folder: Path) -> DomainFolder:
    domain = _load(folder / DOMAIN_FILE, DomainFile)
    if domain.name != folder.name and folder.name != ".":
        raise InvalidInputError(
            f"Domain folder {folder} holds domain {domain.name!r}: "
            f"a domain's folder is named after it",
            details={"path": str(folder), "domain": domain.name},
        )
    parts: dict[str, Any] = {"domain": domain}
    for key, file_name, model in (
        ("catalog", "catalog.yaml", CatalogFile),
        ("access", "access.yaml", AccessFile),
        ("products", "products.yaml", ProductsFile),
    ):
        path = folder / file_name
        if path.is_file():
            parts[key] = _load(path, model)
    return DomainFolder(**parts)


def read_files(directory: Path) -> MeshFiles:
    """The mesh files under ``directory``: an export (a folder per domain), or one domain's
    folder (holding ``domain.yaml``).

    Raises:
        NotFoundError: the folder does not exist or holds no mesh files.
        InvalidInputError: a file is not valid YAML or not a valid mesh file (naming the file and
            the field).
    """
    if not directory.is_dir():
        raise NotFoundError(f"Folder does not exist: {directory}", details={"path": str(directory)})
    if (directory / DOMAIN_FILE).is_file():
        folder = _read_folder(directory)
        mesh = _load(directory / MESH_FILE, MeshFile) if (directory / MESH_FILE).is_file() else None
        return MeshFiles(mesh=mesh, domains=[folder])
    mesh_path = directory / GOVERNANCE / MESH_FILE
    mesh = _load(mesh_path, MeshFile) if mesh_path.is_file() else None
    folders = [
        _read_folder(child)
        for child in sorted(directory.iterdir())
        if child.is_dir() and (child / DOMAIN_FILE).is_file()
    ]
    if mesh is None and not folders:
        raise NotFoundError(
            f"No mesh files in {directory} (expected DOMAIN/domain.yaml folders or "
            f"{GOVERNANCE}/{MESH_FILE}; 'lakemesh export DIR' writes them)",
            details={"path": str(directory)},
        )
    return MeshFiles(mesh=mesh, domains=folders)


def json_schema(file_name: str | None = None) -> dict[str, Any]:
    """The JSON Schema of one mesh file (``domain.yaml``), or of any of them (``anyOf``)."""
    if file_name is not None:
        model = FILE_MODELS.get(file_name)
        if model is None:
            raise NotFoundError(
                f"Mesh file kind does not exist: {file_name} (known: {', '.join(FILE_MODELS)})",
                details={"file": file_name},
            )
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        return schema
    defs: dict[str, Any] = {}
    options: list[dict[str, Any]] = []
    for name, model in FILE_MODELS.items():
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
        options.append({"$ref": f"#/$defs/{model.__name__}", "description": name})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "lakemesh mesh file",
        "description": "Any file of a lakemesh export: " + ", ".join(FILE_MODELS),
        "anyOf": options,
        "$defs": dict(sorted(defs.items())),
    }
