"""Test data in one place: meshes, lakes and policy fixtures that the suites build on.

- :mod:`tests.factories.lake`: Parquet, CSV and JSON files in a domain's storage;
- :mod:`tests.factories.governance`: a mesh with domains, a crawled lake and principals;
- :mod:`tests.factories.query`: the governed mesh the query suites read;
- :mod:`tests.factories.gateway`: the gateway's tables (files and access) for the query suites;
- :mod:`tests.factories.sharing`: three domains sharing a crawled sales lake (the sharing suites);
- :mod:`tests.factories.api_governance`: the governance objects the API suites create;
- :mod:`tests.factories.policy`: random meshes for the policy engine's property tests.
"""
