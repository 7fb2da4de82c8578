"""Every error type the hub can answer with comes back, in a remote client that imports only
``lakemesh.sdk``, as its own class with its own exit code (the registry in ``lakemesh.errors``,
not whichever subclasses happen to be imported)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import lakemesh
from lakemesh.errors import ERROR_TYPES, AccessDeniedError, LakemeshError, error_class

# type -> (class, CLI exit code), as `lakemesh --help` documents them.
EXPECTED = {
    "internal_error": ("LakemeshError", 1),
    "invalid_input": ("InvalidInputError", 6),
    "unauthenticated": ("AuthenticationError", 4),
    "access_denied": ("AccessDeniedError", 4),
    "guardrail_violation": ("GuardrailViolationError", 4),
    "not_found": ("NotFoundError", 3),
    "already_exists": ("AlreadyExistsError", 5),
    "conflict": ("ConflictError", 5),
    "port_in_use": ("PortInUseError", 10),
    "query_cancelled": ("QueryCancelledError", 5),
    "query_rejected": ("QueryRejectedError", 6),
    "limit_exceeded": ("LimitExceededError", 8),
    "storage_error": ("StorageError", 9),
    "hub_unreachable": ("HubUnreachableError", 7),
    "decisions_differ": ("DecisionsDifferError", 11),
}

# A hub stand-in on a loopback port that answers /api/v1/fail/<type> with that error, then a
# remote client of it: the error types it raises and what else got imported.
CLIENT = """
import http.server, json, sys, threading
from lakemesh.sdk import Client

class Hub(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        error_type = self.path.rsplit("/", 1)[-1]
        details = {"principal": "user:bob@marketing", "permission": "SELECT",
                   "resource": "sales.crm.customers", "action": "query"}
        body = json.dumps({"error": {"type": error_type, "message": "m " + error_type,
                                     "details": details}}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
threading.Thread(target=server.serve_forever, daemon=True).start()
ATTRIBUTES = ("principal", "permission", "resource")
raised = {}
with Client.connect(f"http://127.0.0.1:{server.server_port}", token="lm_x") as client:
    for error_type in json.loads(sys.argv[1]):
        try:
            client.request("GET", f"/fail/{error_type}")
        except Exception as error:
            raised[error_type] = {
                "class": type(error).__name__,
                "type": error.error_type,
                "exit_code": error.exit_code,
                "message": str(error),
                "denied": [getattr(error, a, None) for a in ATTRIBUTES],
            }
server.shutdown()
print(json.dumps({
    "raised": raised,
    "loaded": sorted(m for m in sys.modules if m.startswith(("lakemesh.query", "lakemesh.cli"))),
}))
"""


def test_every_error_type_round_trips_through_a_client_importing_only_the_sdk() -> None:
    types = [*EXPECTED, "from_a_newer_hub"]
    done = subprocess.run(
        [sys.executable, "-c", CLIENT, json.dumps(types)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer = json.loads(done.stdout)
    assert answer["loaded"] == []  # query_cancelled maps without the query package
    raised = answer["raised"]
    for error_type, (name, code) in EXPECTED.items():
        got = raised[error_type]
        assert (got["class"], got["type"], got["exit_code"]) == (name, error_type, code)
        assert got["message"] == f"m {error_type}"
    # A type this client does not know stays a LakemeshError, keeping the hub's type.
    unknown = raised["from_a_newer_hub"]
    assert (unknown["class"], unknown["type"], unknown["exit_code"]) == (
        "LakemeshError",
        "from_a_newer_hub",
        1,
    )
    denied = ["user:bob@marketing", "SELECT", "sales.crm.customers"]
    assert raised["access_denied"]["denied"] == denied
    assert raised["guardrail_violation"]["denied"] == denied


def test_the_registry_holds_every_public_error_class() -> None:
    assert {t: (cls.__name__, cls.exit_code) for t, cls in ERROR_TYPES.items()} == EXPECTED
    for module in pkgutil.walk_packages(lakemesh.__path__, "lakemesh."):
        skipped = ("lakemesh.query.engines.spark", "lakemesh.store.migrations", "lakemesh.demo")
        if not module.name.startswith(skipped):
            importlib.import_module(module.name)
    pending: list[type[LakemeshError]] = [LakemeshError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if not cls.__name__.startswith("_") and "error_type" in vars(cls):
            assert error_class(cls.error_type) is cls, f"{cls.__name__} is not registered"


def test_an_access_denial_carries_who_lacked_what_on_which_object() -> None:
    denial = AccessDeniedError(
        "user:bob@marketing lacks SELECT on sales.crm.customers",
        principal="user:bob@marketing",
        permission="SELECT",
        resource="sales.crm.customers",
        details={"action": "query"},
    )
    assert (denial.principal, denial.permission, denial.resource) == (
        "user:bob@marketing",
        "SELECT",
        "sales.crm.customers",
    )
    assert denial.to_dict()["error"]["details"] == {
        "action": "query",
        "principal": "user:bob@marketing",
        "permission": "SELECT",
        "resource": "sales.crm.customers",
    }
