"""See a sweep while it runs: a read-only snapshot of its store, SVG charts, one HTML page.

``snapshot`` reads a run directory's store without ever writing to it, ``svg`` draws charts,
``render`` turns snapshots into HTML (used by both the live dashboard and ``report --html``),
``baseline`` the best trial beside the trivial baseline (and the multilabel thresholds),
``server`` serves the page from the standard library, ``report`` writes it as ``report.html``;
``benchmark`` does the same for a benchmark directory (its ``leaderboard.json``).
What a sweep folder holds is not trusted: ``snapshot`` checks every stored value's type (a
garbage store is one ``SnapshotError`` line), ``render`` escapes all text, ``logs`` reads log
tails without following a link out of the folder; ``access`` checks each request's ``Host`` and
token, ``csp`` gives every response its Content-Security-Policy and security headers.

May import the foundations, ``baseline`` and ``reporting`` (the parameter importance the plots use); it
reads a store with its own read-only SQLite connection; no torch.
"""
