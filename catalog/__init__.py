"""The service catalog: services, their issue types, and loading them from YAML.

Every other app builds on it; it imports none of them (see catalog/sections.py)."""
