"""The network edge: what a URL means, and the guarded fetcher."""
