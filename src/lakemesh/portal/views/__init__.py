"""View functions: what a page shows, asked of the services as the viewer.

Each takes the request's store session and the viewer (keyword-only), calls the same service
functions as the REST API, and returns plain data for a template. No HTTP here, and no rule:
what the viewer may see is decided by the services and ``lakemesh.authz``.
"""
