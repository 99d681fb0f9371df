"""`make bench`: run every bench/bench_*.py module's ``main()`` and print its figures.

Benchmarks measure speed; tests never do. Each module prints its own table and
the command that reproduces it; docs/benchmarks.md records the figures.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import platform
import sys
from pathlib import Path


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    print(f"# make bench on {platform.node()} ({os.cpu_count()} cores, Python {platform.python_version()})")
    only = set(sys.argv[1:])
    here = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if not info.name.startswith("bench_") or (only and info.name not in only):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        print(f"\n## {info.name}")
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
