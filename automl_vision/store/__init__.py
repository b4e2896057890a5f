"""What a sweep keeps on disk: its SQLite store (``database.py``: append-only records of
trials, attempts, reports and events; one writer, any number of readers), the one-writer lock
on a sweep directory (``lock.py``), a sweep directory read back: its trials, settings and
files (``sweep_dir.py``), and which checkpoints are kept (``retention.py``).

May import: the foundations, ``policies`` (decisions are recorded), ``scheduling`` (the store
is a sweep observer).
"""
