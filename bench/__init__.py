"""`make bench`: load, soak and scale benchmarks that measure OutageHub against baselines in the same run."""
