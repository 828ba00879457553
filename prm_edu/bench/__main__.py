"""Entry point: `python -m prm_edu.bench NAME [options] [--json]`."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

BENCHMARKS = ("models", "search", "notebooks", "rl", "worlds", "labels")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m prm_edu.bench")
    sub = parser.add_subparsers(dest="name", required=True)
    modules = {}
    for name in BENCHMARKS:
        try:
            module = importlib.import_module(f"prm_edu.bench.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"prm_edu.bench.{name}":
                raise
            continue  # not built yet
        modules[name] = module
        p = sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0])
        p.add_argument("--json", action="store_true", help="print JSON only")
        module.add_arguments(p)
    args = parser.parse_args(argv)
    result = modules[args.name].run(args)
    module = modules[args.name]
    if args.json or not hasattr(module, "format_text"):
        print(json.dumps(result, indent=2))
    else:
        print(module.format_text(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
