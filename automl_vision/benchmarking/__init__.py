"""Benchmarks of methods across datasets, with one fixed protocol (issue 29).

A benchmark tunes each method (a search space or preset, sampler, policy and budget) on each
dataset's train/validation split, retrains its top configurations with several seeds, scores
them on a test split that tuning never saw, and reports every metric with a confidence interval,
per-class results and paired comparisons between methods.

May import every layer up to ``dashboard`` (which writes its ``report.html``); the CLI imports
it. The leaderboard's files are defined in ``reporting/leaderboard.py`` so that the dashboard can
read them.
"""
