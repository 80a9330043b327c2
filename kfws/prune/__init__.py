"""kfws prune: which kfws-built tags may go (decide.py, pure) and deleting them (commands/prune)."""
