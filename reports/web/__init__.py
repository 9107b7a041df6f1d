"""Public pages: server-rendered HTML with inline SVG charts (charts.py is pure)."""
