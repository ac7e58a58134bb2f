"""Models: the only place that imports litellm, the embedded runtimes, the on-disk call cache.

May import: errors, files."""
