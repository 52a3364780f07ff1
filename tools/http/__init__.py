"""The shared resilient HTTP layer: one ``UpstreamClient`` per upstream.

Build clients with ``tools.http.factory.build_upstream``; failures are the typed errors of
``tools.http.errors``. This package imports nothing from the domains or the server.
"""
