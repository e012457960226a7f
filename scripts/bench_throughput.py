"""The throughput benchmark (same as `zipml-hls bench`; the same options).

Usage: python scripts/bench_throughput.py [--quick] [--out DIR] [--rows N --features D ...]
"""

import sys

from zipml_hls.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
