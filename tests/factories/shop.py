"""What the producer factories (:mod:`tests.factories.quality`, :mod:`tests.factories.contracted`)
build on: a hub and the lake its producer ``shop`` crawls."""

from __future__ import annotations

from dataclasses import dataclass

from lakemesh.model.actors import Actor
from tests.conftest import HubEnv
from tests.factories.lake import Lake
from tests.factories.tokens import actor_of


@dataclass
class HubAndLake:
    env: HubEnv
    lake: Lake

    def actor(self, ref: str) -> Actor:
        """The actor of the existing principal ``ref``."""
        return actor_of(self.env, ref)
