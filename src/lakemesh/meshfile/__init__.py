"""The mesh as code: the mesh as YAML files (export), what applying them would change (plan), and
making it so through the services (apply).

>>> from lakemesh import meshfile
>>> sorted(meshfile.FILE_MODELS)
['access.yaml', 'catalog.yaml', 'domain.yaml', 'mesh.yaml', 'products.yaml']
"""

from __future__ import annotations

from lakemesh.meshfile.apply import ApplyResult, apply_mesh
from lakemesh.meshfile.export import export_mesh
from lakemesh.meshfile.files import json_schema, read_files, render_files, write_files
from lakemesh.meshfile.model import FILE_MODELS, MeshFiles
from lakemesh.meshfile.plan import Plan, plan_mesh

__all__ = [
    "FILE_MODELS",
    "ApplyResult",
    "MeshFiles",
    "Plan",
    "apply_mesh",
    "export_mesh",
    "json_schema",
    "plan_mesh",
    "read_files",
    "render_files",
    "write_files",
]
