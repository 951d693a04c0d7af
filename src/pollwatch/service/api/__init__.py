"""The JSON API under ``/api``: ``routes`` (one router per resource), ``main.api_router``
assembling them, ``deps`` (settings, session, store, writer, the current user), ``submit`` (what
the three submission routers share)."""
