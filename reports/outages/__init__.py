"""Outages after detection: status updates from the service's team and signed webhooks."""
