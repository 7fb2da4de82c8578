"""Sharing across domains: shares, resource links, data products, subscriptions, onboarding.

- :mod:`~lakemesh.sharing.shares`: incoming and outgoing shares, accept and decline;
- :mod:`~lakemesh.sharing.links`: resource links in a consumer's catalog and their resolution;
- :mod:`~lakemesh.sharing.products`: data products, publication, discovery and search;
- :mod:`~lakemesh.sharing.subscriptions`: requests for access to products and their decisions;
- :mod:`~lakemesh.sharing.onboarding`: a producer or consumer domain in one step.

Which grants are shares and whether they were accepted is the authorization kernel's
(:mod:`lakemesh.authz.share_status`): the policy loader reads it. Modules are imported by name.
"""
