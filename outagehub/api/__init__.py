"""API plumbing every app shares: errors, parsing, pagination, strict serializers, time windows,
HTTP caching and CORS, the schema and its examples."""
