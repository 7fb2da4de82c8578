"""The web portal: server-rendered pages for consumers, producers and stewards, served at ``/``
by the hub process next to the REST API (see ``docs/portal.md``).

Pages call the same services and the same policy code as the REST API: a route parses the
request, a view function (``views/``) asks the services, a Jinja2 template (``templates/``)
renders the result with every value escaped. :func:`install_portal` adds it to the hub's app.
"""

from __future__ import annotations

from lakemesh.portal.app import install_portal, page_methods
from lakemesh.portal.pages import error_page, is_portal_path, unexpected_error_page

__all__ = [
    "error_page",
    "install_portal",
    "is_portal_path",
    "page_methods",
    "unexpected_error_page",
]
