"""Server-rendered pages (Jinja2 templates in ``service/templates``), one module per area:
``login``, ``filing`` (observers' stations and forms), ``dashboard``, ``review``, ``dossier``,
``watch`` (camera watchers); ``common`` holds what they share. ``pages.main.page_router``
assembles them (outside ``/api``, not in the OpenAPI schema)."""
