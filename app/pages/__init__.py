"""HTML routers (Jinja2 + htmx)."""
