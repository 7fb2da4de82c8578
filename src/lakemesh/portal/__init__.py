"""The web portal: server-rendered pages for consumers, producers and stewards, served at ``/``
by the hub process next to the REST API (see ``docs/portal.md``).

Pages call the same services and the same policy code as the REST API: a route parses the
request, a view function (``views/``) asks the services, a Jinja2 template (``templates/``)
renders the result with every value escaped. :func:`lakemesh.portal.app.install_portal` adds it
to the hub's app. This package imports nothing itself: an embedded hub that serves no page never
loads Jinja2, the OIDC client or the portal's views (CLI startup time).
"""
