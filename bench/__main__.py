"""Run every benchmark module of this package (each module's `main()`), in name order."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def run(names: list[str]) -> int:
    modules = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")
    )
    for name in modules:
        if names and name not in names:
            continue
        module = importlib.import_module(f"bench.{name}")
        if hasattr(module, "main"):
            print(f"== bench/{name}", flush=True)
            module.main()
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
