"""Test data in one place: meshes, lakes and policy fixtures that the suites build on.

- :mod:`tests.factories.lake`: Parquet, CSV and JSON files in a domain's storage;
- :mod:`tests.factories.governance`: a mesh with domains, a crawled lake and principals;
- :mod:`tests.factories.query`: the governed mesh the query suites read;
- :mod:`tests.factories.gateway`: the gateway's tables (files and access) for the query suites;
- :mod:`tests.factories.sharing`: three domains sharing a crawled sales lake (the sharing suites);
- :mod:`tests.factories.api_governance`: the governance objects the API suites create;
- :mod:`tests.factories.policy`: random meshes for the policy engine's property tests;
- :mod:`tests.factories.demo`: the NimbusCart demo mesh, built once a run, copied per user;
- :mod:`tests.factories.quality`: the quality suites' producer (orders with known flaws);
- :mod:`tests.factories.contracted`: a producer whose product has a contract and a subscriber;
- :mod:`tests.factories.shop`: the hub and lake those two producers build on;
- :mod:`tests.factories.cli_mesh`: a small mesh built through the CLI, and a CLI whose
  embedded hub stays open;
- :mod:`tests.factories.tokens`: principals' actors and tokens, and a clean CLI environment.
"""
