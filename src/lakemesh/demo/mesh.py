"""The NimbusCart demo mesh: domains, personas, locations and crawled tables on generated data,
then governance (tags, masks, filters, grants, guardrails), sharing (data products,
subscriptions, resource links) and the example queries it prints.

Every capability extends ``build_demo`` here, so the demo stays in one place.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from lakemesh.bootstrap import init_home
from lakemesh.catalog import crawler, domains, locations
from lakemesh.demo.data import CONSUMER_DOMAINS, PRODUCER_DOMAINS, generate_nimbuscart
from lakemesh.demo.governance import apply_governance
from lakemesh.demo.object_store import DemoStore
from lakemesh.demo.queries import example_queries
from lakemesh.demo.reference import REGIONS
from lakemesh.demo.sharing import apply_sharing
from lakemesh.errors import ConflictError
from lakemesh.home import HubHome
from lakemesh.hub import Hub
from lakemesh.identity import principals, tokens
from lakemesh.identity.attributes import create_attribute_key
from lakemesh.model.actors import Actor

STEWARD = "user:steward@governance"
DOMAIN_ADMINS = {
    "sales": "user:sam@sales",
    "marketing": "user:maria@marketing",
    "supply_chain": "user:sol@supply_chain",
    "finance": "user:fiona@finance",
    "analytics": "user:ana@analytics",
    "data_science": "user:dana@data_science",
}
DESCRIPTIONS = {
    "sales": "Customers, stores and orders of NimbusCart's shops, web and app.",
    "marketing": "Campaigns and the leads they bring in.",
    "supply_chain": "Products, store inventory and shipments.",
    "finance": "Invoices and the payroll.",
    "analytics": "Company-wide reporting, built on other domains' products.",
    "data_science": "Forecasting and experimentation.",
}


@dataclass(frozen=True)
class Persona:
    """A demo identity: a profile name in profiles.toml and the principal behind it."""

    profile: str
    principal: str
    role: str
    groups: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)


PERSONAS = (
    Persona("steward", STEWARD, "mesh admin (data steward)"),
    *(
        Persona(f"{domain.replace('_', '-')}-admin", admin, f"admin of domain {domain}")
        for domain, admin in DOMAIN_ADMINS.items()
    ),
    Persona(
        "marketing-analyst",
        "user:mia@marketing",
        "marketing analyst",
        groups=("group:analysts@marketing",),
    ),
    Persona(
        "finance-analyst",
        "user:frank@finance",
        "finance analyst",
        groups=("group:analysts@finance",),
    ),
    Persona(
        "eu-manager",
        "user:emma@sales",
        "EU regional manager",
        groups=("group:regional_managers@sales",),
        attributes={"region": "EU"},
    ),
)
DEMO_MARKER = "demo"
DEMO_FILE = "demo.json"  # what a finished build made (tokens included: private to the owner)
# A folder with only these is a fresh place for the demo (objectstore: the S3 mode's store).
KEPT_FILES = ("storage", "serve.lock", "objectstore")
S3_DOMAIN = "sales"
"""The domain whose data the S3 mode puts in the store (``s3://nimbuscart-sales``)."""
TOKEN_LIFETIME = timedelta(days=30)


@dataclass
class DemoResult:
    """What the demo built: tables crawled and persona tokens (also saved as profiles)."""

    home: Path
    tables: list[dict[str, Any]]
    tokens: dict[str, str]
    personas: tuple[Persona, ...] = PERSONAS
    queries: list[tuple[str, str, str]] = field(default_factory=example_queries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "home": str(self.home),
            "tables": self.tables,
            "queries": [
                {"profile": profile, "description": description, "sql": sql}
                for profile, description, sql in self.queries
            ],
            "personas": [
                {
                    "profile": p.profile,
                    "principal": p.principal,
                    "role": p.role,
                    "token": self.tokens[p.profile],
                }
                for p in self.personas
            ],
        }

    def save(self) -> None:
        """Write what was built to the home's ``demo.json`` (the mark of a finished build)."""
        path = self.home / DEMO_FILE
        path.touch(mode=0o600)
        path.write_text(json.dumps(self.to_dict(), indent=2))


def load_demo(home: Path) -> DemoResult | None:
    """The demo a finished build left in ``home``, or ``None`` when there is none."""
    path = home / DEMO_FILE
    if not HubHome(home).exists() or not path.exists():
        return None
    saved = json.loads(path.read_text())
    tokens = {persona["profile"]: persona["token"] for persona in saved["personas"]}
    return DemoResult(home, saved["tables"], tokens)


def uses_store(home: Path) -> bool:
    """Whether the demo in ``home`` was built in the S3 mode (its hub reads the demo store)."""
    hub_home = HubHome(home)
    return hub_home.exists() and bool(hub_home.config().get("storage", {}).get("s3"))


def _reset_home(home: Path) -> None:
    """Forget a previous demo's hub state (its generated data is kept and reused)."""
    hub_home = HubHome(home)
    if not hub_home.exists():
        if home.exists() and any(p.name not in KEPT_FILES for p in home.iterdir()):
            raise ConflictError(
                f"Refusing to build the demo in {home}: it holds files that are not a hub home",
                details={"home": str(home)},
            )
        return
    if not hub_home.config().get(DEMO_MARKER):
        raise ConflictError(
            f"Refusing to build the demo in {home}: it is a hub home not made by the demo "
            "(choose another --home)",
            details={"home": str(home)},
        )
    for name in ("hub.db", "hub.db-wal", "hub.db-shm", "config.toml", "profiles.toml", DEMO_FILE):
        (home / name).unlink(missing_ok=True)
    shutil.rmtree(home / "tmp", ignore_errors=True)


def _people(hub: Hub, actor: Actor) -> None:
    with hub.transaction() as session:
        for domain in PRODUCER_DOMAINS + CONSUMER_DOMAINS:
            domains.create_domain(
                session,
                actor=actor,
                name=domain,
                producer=domain in PRODUCER_DOMAINS,
                consumer=domain in CONSUMER_DOMAINS or domain in ("marketing", "finance"),
                description=DESCRIPTIONS[domain],
                admins=[DOMAIN_ADMINS[domain]],
            )
        # Row filters read region: its values are governed, set only by the steward.
        create_attribute_key(
            session,
            actor=actor,
            key="region",
            values=list(REGIONS),
            description="The sales region a person works for (read by regional row filters).",
        )
        for persona in PERSONAS:
            for group in persona.groups:
                try:
                    principals.get_principal(session, group)
                except Exception:
                    principals.create_principal(session, actor=actor, principal=group)
            try:
                principals.get_principal(session, persona.principal)
            except Exception:
                principals.create_principal(
                    session, actor=actor, principal=persona.principal, attributes=persona.attributes
                )
            for group in persona.groups:
                principals.add_member(session, actor=actor, group=group, member=persona.principal)


def build_demo(
    home: Path,
    *,
    orders: int = 1_000_000,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
    store: DemoStore | None = None,
) -> DemoResult:
    """Build (or rebuild) the NimbusCart mesh in ``home`` and return the persona tokens.

    Domains keep their data in ``home/storage/<domain>``; each database folder is crawled. With
    ``store`` (the S3 mode), the sales domain's data is copied there and registered and crawled
    as ``s3://nimbuscart-sales``, and the hub's ``[storage.s3]`` settings name the store.
    """
    report = progress or (lambda message: None)
    home = home.absolute()
    _reset_home(home)
    storage = home / "storage"
    report(f"generating NimbusCart data in {storage}")
    layout = generate_nimbuscart(storage, seed=seed, orders=orders, progress=report)
    config: dict[str, Any] = {DEMO_MARKER: True}
    if store is not None:
        config["storage"] = {"s3": store.settings}
    initialised = init_home(home, admin=STEWARD, extra_config=config)
    hub = initialised.hub
    try:
        with hub.transaction() as session:
            steward = tokens.authenticate(session, initialised.token.token)
        _people(hub, steward)
        crawled: list[dict[str, Any]] = []
        for domain, databases in layout.items():
            where = str(storage / domain)
            if store is not None and domain == S3_DOMAIN:
                report(f"copying {domain}'s data to the S3 store at {store.endpoint}")
                where = store.upload(storage / domain, f"nimbuscart-{domain}")
            with hub.transaction() as session:
                locations.register_location(session, actor=steward, uri=where, domain=domain)
            for database, folder in databases.items():
                report(f"crawling {domain}.{database}")
                uri = str(folder)
                if where.startswith("s3://"):
                    uri = f"{where}/{folder.relative_to(storage / domain).as_posix()}"
                results = crawler.crawl(
                    hub, actor=steward, uri=uri, domain=domain, database=database
                )
                crawled.extend(r.to_dict() for r in results)
        report("tagging the catalog, creating masks, filters, grants and guardrails")
        apply_governance(hub, steward)
        report("publishing data products, subscriptions and resource links")
        apply_sharing(hub, steward)
        issued = {"steward": initialised.token.token}
        with hub.transaction() as session:
            for persona in PERSONAS[1:]:
                issued[persona.profile] = tokens.create_token(
                    session,
                    actor=steward,
                    principal=persona.principal,
                    expires_in=TOKEN_LIFETIME,
                    description="demo persona",
                ).token
        for profile, token in issued.items():
            hub.home.save_profile(profile, token=token, make_default=profile == "steward")
        result = DemoResult(home, crawled, issued)
        result.save()
        return result
    finally:
        hub.close()
