"""Recorded-format status page fixtures, and the tiny server that serves them for `make run`.

No Django here: `python -m statuspages.demo.server` runs beside the app without its settings.
"""
