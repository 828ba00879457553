"""Benchmarks that print the figures the course claims.

`python -m prm_edu.bench NAME [--json]`, where NAME is one of the modules in
this package (`models`, `search`, `notebooks`, `rl`). Each module defines
`add_arguments(parser)` and `run(args) -> dict`, and optionally
`format_text(result) -> str` for the plain (non-JSON) output.
"""
