"""Report intake: who reported (salted hashes only), from where, whether it counts, and storing it."""
