"""Rapport's benchmark harness: `make bench` (or `python -m bench --help`).

It builds its own database (never var/rapport.sqlite3), seeds it once per size, measures search, pages, the API
and the CSV import, times the naive approach on the same data, and writes bench/results/<time>-<vendor>.json.
"""
