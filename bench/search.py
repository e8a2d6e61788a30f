"""Search latency: p50 of /products.search for a common term, a rare one and an absent one.

    python bench/search.py http://127.0.0.1:8000 --token T --rare "Biscuit rice 1781g" [--runs 15]

Requests go one at a time on one keep-alive connection, so that the p50 is the
time of a search, not of a queue. The terms alternate with a barcode lookup of the
same app, whose p50 is the in-run reference: the ratio search ÷ lookup holds when
the machine is busy, the milliseconds do not.

- common: "milk", in about one product name in twenty;
- rare: a whole product name, given by the caller (bench/run.py takes one from the
  middle of the catalogue): a handful of products;
- absent: a word no name and no manufacturer contains.
"""

import argparse
import json
import statistics
from urllib.parse import quote

from servers import Client

COMMON, ABSENT = "milk", "xylophone"


def terms(rare: str) -> dict[str, str]:
    """Return the searched terms by kind."""
    return {"common": COMMON, "rare": rare, "absent": ABSENT}


def measure(url: str, token: str, *, rare: str, lookup: str, runs: int) -> dict:
    """Return {kind: {"p50_ms", "found"}} for each term and for the lookup, runs alternating."""
    client = Client(url, token)
    paths = {kind: f"/products.search?q={quote(term)}" for kind, term in terms(rare).items()}
    paths["lookup"] = lookup
    samples = {kind: [] for kind in paths}
    found = {}
    for run in range(runs + 1):
        for kind, path in paths.items():
            status, body, seconds = client.get(path)
            if status != 200:
                raise RuntimeError(f"{path}: {status} {body}")
            if run == 0:  # the first round warms caches and is not counted
                data = body["data"]
                found[kind] = len(data) if isinstance(data, list) else 1
            else:
                samples[kind].append(seconds * 1000)
    return {
        kind: {"p50_ms": statistics.median(values), "found": found[kind]}
        for kind, values in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--token", required=True)
    parser.add_argument("--rare", required=True, help="a term few products contain")
    parser.add_argument("--lookup", default="/products.getByBarcode/2000000000046")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    result = measure(args.url, args.token, rare=args.rare, lookup=args.lookup, runs=args.runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
