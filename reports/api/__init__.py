"""REST API v1 of the reports app: one module per resource, thin over services and selectors."""
