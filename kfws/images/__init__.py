"""Pure helpers for managed images: Dockerfile generation, content digests, tags."""
