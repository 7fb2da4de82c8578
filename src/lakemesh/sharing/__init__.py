"""Sharing across domains: shares, resource links, data products, subscriptions, onboarding.

- :mod:`~lakemesh.sharing.share_status`: which grants are shares and whether they were accepted
  (read by the policy loader, so it imports no other service);
- :mod:`~lakemesh.sharing.shares`: incoming and outgoing shares, accept and decline;
- :mod:`~lakemesh.sharing.links`: resource links in a consumer's catalog and their resolution;
- :mod:`~lakemesh.sharing.products`: data products, publication, discovery and search;
- :mod:`~lakemesh.sharing.subscriptions`: requests for access to products and their decisions;
- :mod:`~lakemesh.sharing.onboarding`: a producer or consumer domain in one step.

Modules are imported by name; this package imports none of them, so the policy loader can read
share answers without importing the services built on it.
"""
