"""`lakemesh export`, `plan` and `apply` on real hub homes (embedded, through the SDK)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli


def _mesh(cli: Cli) -> None:
    cli.run("domain", "create", "sales", "--producer", "--admin", "user:sam@sales")
    cli.run("principal", "create", "user:emma@sales")
    cli.run("group", "add-member", "group:managers@sales", "user:emma@sales", code=3)
    cli.run("principal", "create", "group:managers@sales")
    cli.run("group", "add-member", "group:managers@sales", "user:emma@sales")
    cli.run("tag", "create", "sensitivity", "--values", "public,pii")
    cli.run("grant", "DESCRIBE", "--on", "sales", "--to", "group:managers@sales")


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.yaml"))
    }


def test_export_plan_apply_rebuilds_a_mesh_in_another_home(admin_cli: Cli, tmp_path: Path) -> None:
    _mesh(admin_cli)
    exported = admin_cli.json("export", str(tmp_path / "mesh"))
    assert "sales/domain.yaml" in exported["files"]
    assert "user:emma@sales" in (tmp_path / "mesh" / "sales" / "domain.yaml").read_text()

    other = Cli(tmp_path / "other")
    other.run("init")
    plan = other.json("plan", str(tmp_path / "mesh"))
    created = {(c["kind"], c["key"]) for c in plan["changes"] if c["action"] == "create"}
    assert {("domain", "sales"), ("tag", "sensitivity"), ("principal", "user:emma@sales")} <= (
        created
    )
    assert plan["summary"]["problems"] == 0
    human = other.run("plan", str(tmp_path / "mesh")).stdout
    assert "+ domain sales\n" in human
    assert "Plan: " in human

    applied = other.json("apply", str(tmp_path / "mesh"))
    assert applied["apply_id"]
    assert applied["committed"]
    other.json("export", str(tmp_path / "again"))
    assert _files(tmp_path / "again") == _files(tmp_path / "mesh")
    assert "Nothing to apply" in other.run("apply", str(tmp_path / "mesh")).stdout


def test_a_domain_admin_may_not_apply_another_domains_folder(
    admin_cli: Cli, tmp_path: Path
) -> None:
    _mesh(admin_cli)
    admin_cli.run("domain", "create", "marketing", "--admin", "user:maria@marketing")
    admin_cli.run("export", str(tmp_path / "mesh"))
    token = admin_cli.json("token", "create", "user:maria@marketing")["token"]
    (tmp_path / "mesh" / "sales" / "domain.yaml").write_text(
        (tmp_path / "mesh" / "sales" / "domain.yaml").read_text() + "- name: user:eve@sales\n"
    )
    error = admin_cli.error("--token", token, "apply", str(tmp_path / "mesh" / "sales"), code=4)
    assert error["message"] == "user:maria@marketing is not an admin of domain sales"
    listed = admin_cli.json("principal", "list", "--domain", "sales")
    assert "user:eve@sales" not in {p["name"] for p in listed}


def test_plan_exits_1_with_the_problem_named(admin_cli: Cli, tmp_path: Path) -> None:
    _mesh(admin_cli)
    admin_cli.run("export", str(tmp_path / "mesh"))
    domain_file = tmp_path / "mesh" / "sales" / "domain.yaml"
    domain_file.write_text(
        domain_file.read_text().replace(
            "  - user:emma@sales\n", "  - user:emma@sales\n  - user:ghost@marketing\n"
        )
    )
    result = admin_cli.run("--json", "plan", str(tmp_path / "mesh"), code=1)
    assert '"problems": [' in result.stdout
    assert "member group:managers@sales|user:ghost@marketing refers to principal " in (
        admin_cli.run("plan", str(tmp_path / "mesh"), code=1).stderr
    )
    error = admin_cli.error("apply", str(tmp_path / "mesh"), code=3)
    assert error["message"].startswith("Apply refused, nothing applied: member ")


def test_bad_files_are_named(admin_cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "mesh" / "sales"
    folder.mkdir(parents=True)
    (folder / "domain.yaml").write_text("name: sales\nproducer: yes-please\n")
    error = admin_cli.error("plan", str(tmp_path / "mesh"), code=6)
    assert error["message"].startswith(f"Invalid mesh file {folder / 'domain.yaml'}: producer: ")
    missing = admin_cli.error("plan", str(tmp_path / "nothing"), code=3)
    assert missing["message"] == f"Folder does not exist: {tmp_path / 'nothing'}"


def test_a_token_secret_comes_from_the_secrets_file_or_the_environment(
    admin_cli: Cli, tmp_path: Path
) -> None:
    _mesh(admin_cli)
    admin_cli.run("principal", "create", "service:etl@sales")
    admin_cli.run("export", str(tmp_path / "mesh"))
    domain_file = tmp_path / "mesh" / "sales" / "domain.yaml"
    domain_file.write_text(
        domain_file.read_text().replace(
            "- name: service:etl@sales\n",
            "- name: service:etl@sales\n  tokens:\n  - secret_env: SALES_ETL_TOKEN\n",
        )
    )
    secret = "lm_sales-etl-from-the-vault-0123456789"
    error = admin_cli.error("apply", str(tmp_path / "mesh"), code=6)
    assert error["message"].startswith(
        "Apply refused, nothing applied: Secret SALES_ETL_TOKEN of a token of service:etl@sales "
        "is not given: set the environment variable SALES_ETL_TOKEN or a line SALES_ETL_TOKEN=..."
    )
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text(f"SALES_ETL_TOKEN={secret}\n")
    plan = admin_cli.json("plan", str(tmp_path / "mesh"), "--secrets", str(secrets_file))
    assert [(c["action"], c["kind"]) for c in plan["changes"]] == [("create", "token")]
    assert secret not in json.dumps(plan)
    admin_cli.run("apply", str(tmp_path / "mesh"), "--secrets", str(secrets_file))
    assert admin_cli.json("--token", secret, "whoami")["name"] == "service:etl@sales"

    # Exported by name, never by value; the environment rotates it.
    admin_cli.run("export", str(tmp_path / "again"))
    assert (tmp_path / "again" / "sales" / "domain.yaml").read_text() == domain_file.read_text()
    assert secret not in "".join(p.read_text() for p in (tmp_path / "again").rglob("*.yaml"))
    rotated = "lm_sales-etl-rotated-9876543210-abcdef"
    admin_cli.run("apply", str(tmp_path / "mesh"), env={"SALES_ETL_TOKEN": rotated})
    assert admin_cli.json("--token", rotated, "whoami")["name"] == "service:etl@sales"
    admin_cli.run("--token", secret, "whoami", code=4)


def test_a_refused_apply_names_every_refusal(admin_cli: Cli, tmp_path: Path) -> None:
    _mesh(admin_cli)
    admin_cli.run("guardrail", "create", "monthly", "--kind", "max-token-lifetime", "--max", "30d")
    admin_cli.run("export", str(tmp_path / "mesh"))
    domain_file = tmp_path / "mesh" / "sales" / "domain.yaml"
    # Two tokens without expiry in one folder (one transaction): the guardrail refuses both.
    domain_file.write_text(
        domain_file.read_text()
        + "".join(
            f"- name: service:{name}@sales\n  tokens:\n  - secret_env: {name.upper()}_TOKEN\n"
            for name in ("etl", "loader")
        )
    )
    env = {
        f"{name}_TOKEN": f"lm_{name.lower()}-0123456789abcdef-0123456789"
        for name in ("ETL", "LOADER")
    }
    human = admin_cli.run("apply", str(tmp_path / "mesh" / "sales"), env=env, code=4).stderr
    assert "problem: token service:etl@sales|ETL_TOKEN: " in human
    assert "problem: token service:loader@sales|LOADER_TOKEN: " in human
    assert "(and 1 more problems)" in human
    body = json.loads(
        admin_cli.run("--json", "apply", str(tmp_path / "mesh" / "sales"), env=env, code=4).stderr
    )
    problems = body["error"]["details"]["problems"]
    assert [(p["kind"], p["key"], p["type"]) for p in problems] == [
        ("token", "service:etl@sales|ETL_TOKEN", "guardrail_violation"),
        ("token", "service:loader@sales|LOADER_TOKEN", "guardrail_violation"),
    ]
    listed = admin_cli.json("principal", "list", "--domain", "sales")
    assert "service:etl@sales" not in {p["name"] for p in listed}
