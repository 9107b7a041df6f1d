"""Detection: the pure detector (detector.py), the rollups it reads, and the tick that opens,
updates and resolves outages from it."""
