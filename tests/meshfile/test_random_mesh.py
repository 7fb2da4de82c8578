"""Property: any mesh applied into a fresh hub exports files that rebuild, in another fresh hub, a
mesh exporting byte-identical files; and planning a hub's own export changes nothing.

The meshes are ``lakemesh.demo.mesh_generator.random_mesh`` with every choice drawn by hypothesis:
producer and consumer domains with users (with and without attributes), groups with members
across domains or none, locations, databases and tables (parquet or csv, with and without
properties) with random columns, tags on databases, tables and columns, data filters (rows by a
predicate or by a principal attribute, columns), masks, and grants on domains, databases, tables
(whole or column lists, SELECT with and without DESCRIBE), filters and tag expressions to users,
groups and whole domains, with and without grant option.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lakemesh import meshfile
from lakemesh.demo.mesh_generator import GRANT_KINDS, REGIONAL_ROWS, MeshShape, TagRule, random_mesh
from tests.conftest import assert_policy_index_current
from tests.meshfile.conftest import export_text, fresh_hub

T = TypeVar("T")
TAGS = {"sensitivity": ("internal", "pii", "public"), "tier": ("gold", "silver")}
ANY_TAGS = tuple(TagRule(key, values, 0.5) for key, values in TAGS.items())
SMALL = MeshShape(
    domains=(1, 3),
    users=(0, 6),
    groups=(0, 3),
    memberships=(0, 2),
    databases=(0, 2),
    tables=(0, 2),
    columns=(1, 4),
    grants=(0, 6),
    vocabulary=TAGS,
    database_tags=ANY_TAGS,
    table_tags=ANY_TAGS,
    column_tags=ANY_TAGS,
    column_types=("BIGINT", "VARCHAR", "DATE", "DOUBLE"),
    formats=("parquet", "csv"),
    producer_rate=0.5,
    consumer_rate=0.5,
    attribute_rate=0.5,
    properties_rate=0.5,
    filter_rate=0.5,
    filter_rows=(None, "c0 IS NOT NULL", REGIONAL_ROWS),
    filter_columns=(None, 1),
    grant_kinds=dict.fromkeys(GRANT_KINDS, 1.0),
    grantees={"user": 1.0, "group": 1.0, "domain": 1.0},
    grant_columns=(1, 1),
    tag_expression_keys=(1, 2),
    tag_expression_values=(1, 3),
    describe_rate=0.5,
    grant_option_rate=0.5,
    mask_rate=0.5,
    mask_functions=("redact", "hash"),
)
"""Every rate strictly between 0 and 1 and every list of options longer than one: hypothesis draws
each choice and shrinks a failure to the smallest mesh that shows it."""


class DrawnSource:
    """The generator's choices drawn by hypothesis."""

    def __init__(self, data: st.DataObject) -> None:
        self.draw = data.draw

    def integer(self, low: int, high: int) -> int:
        return low if low >= high else self.draw(st.integers(low, high))

    def chance(self, probability: float) -> bool:
        if probability <= 0 or probability >= 1:
            return probability >= 1
        return self.draw(st.booleans())

    def choice(self, options: Sequence[T]) -> T:
        return options[0] if len(options) == 1 else self.draw(st.sampled_from(options))

    def sample(self, options: Sequence[T], count: int) -> list[T]:
        if count <= 0 or not options:
            return []
        return self.draw(st.permutations(options))[:count]

    def weighted(self, options: Sequence[tuple[T, float]]) -> T:
        return self.choice([option for option, weight in options if weight > 0])


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_random_mesh_rebuilds_from_its_export_byte_identical(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        files = random_mesh(DrawnSource(data), SMALL, root / "storage")
        first = fresh_hub(root / "first")
        second = fresh_hub(root / "second")
        try:
            meshfile.apply_mesh(first.hub, actor=first.admin, files=files)
            exported = export_text(first.hub, first.admin)
            with first.hub.read() as session:
                first_files = meshfile.export_mesh(session, actor=first.admin)
            assert meshfile.plan_mesh(first.hub, actor=first.admin, files=first_files).changes == []
            meshfile.write_files(first_files, root / "export")
            meshfile.apply_mesh(
                second.hub, actor=second.admin, files=meshfile.read_files(root / "export")
            )
            assert export_text(second.hub, second.admin) == exported
            assert_policy_index_current(second.hub)
        finally:
            first.hub.close()
            second.hub.close()
