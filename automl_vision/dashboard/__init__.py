"""See a sweep while it runs: a read-only snapshot of its store, SVG charts, one HTML page.

``snapshot`` reads a run directory's store without ever writing to it, ``svg`` draws charts,
``render`` turns snapshots into HTML (used by both the live dashboard and ``report --html``),
``server`` serves the page from the standard library.

May import the foundations and ``reporting`` (the parameter importance the plots use); it
reads a store with its own read-only SQLite connection; no torch.
"""
