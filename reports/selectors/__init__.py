"""Reads shared by the API and the pages: status and counts, series, outages."""
