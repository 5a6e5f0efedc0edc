"""Benchmarks: `make bench` runs every module here that defines `main()`.

Each benchmark prints its figures and the ratio against a baseline measured in the same run.
Run one with `python -m bench.NAME`.
"""
