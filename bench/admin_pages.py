"""The admin console's pages: the dashboard's numbers, likely twin makers, a filtered history.

    python bench/admin_pages.py http://127.0.0.1:8000 --token T --until 2024-12-16 [--runs 11]

The token must be an admin's. Requests go one at a time on one keep-alive
connection, so that a figure is the time of the page, not of a queue. Each page
alternates with a barcode lookup of the same app: its p50 is the in-run reference,
and a page's ratio is the median, over the runs, of page ÷ the lookup just before.
The seeded catalogue's last product was added on `until` (bench/seed.py: one every
30 s from 2024-01-01), so the windows end where the captures are.
"""

import argparse
import datetime as dt
import json
import statistics

from servers import Client

# A seeded user (bench/seed.py makes 20) whose week of captures is filtered.
PERSON = 7


def pages(until: dt.date) -> dict[str, str]:
    """Return the measured pages by name: paths that end their windows on `until`."""
    week = f"from={until - dt.timedelta(days=6)}&to={until + dt.timedelta(days=1)}"
    return {
        "dashboard, 30 days": f"/stats.get?days=30&until={until}",
        "dashboard, 90 days": f"/stats.get?days=90&until={until}",
        "likely twin makers, first page": "/companies.duplicates",
        "one person's week of captures": f"/products.history?scope=all&created_by={PERSON}&{week}",
    }


def last_day(size: int, start: dt.datetime) -> dt.date:
    """Return the day the seeded catalogue's last product was added."""
    return (start + dt.timedelta(seconds=30 * size)).date()


def measure(url: str, token: str, *, until: dt.date, lookup: str, runs: int) -> dict:
    """Return {page: {"p50_ms", "ratio", "found"}} and the lookup's p50, runs alternating."""
    client = Client(url, token)
    found, times, ratios = {}, {"lookup": []}, {}
    for run in range(runs + 1):
        for name, path in pages(until).items():
            reference = _timed(client, lookup)
            seconds = _timed(client, path, found if run == 0 else None, name)
            if run == 0:  # the first round warms caches and is not counted
                continue
            times.setdefault(name, []).append(seconds * 1000)
            times["lookup"].append(reference * 1000)
            ratios.setdefault(name, []).append(seconds / reference)
    result = {
        name: {
            "p50_ms": statistics.median(times[name]),
            "ratio": statistics.median(ratios[name]),
            "found": found[name],
        }
        for name in pages(until)
    }
    result["lookup"] = {"p50_ms": statistics.median(times["lookup"])}
    return result


def _timed(client: Client, path: str, found: dict | None = None, name: str = "") -> float:
    status, body, seconds = client.get(path)
    if status != 200:
        raise RuntimeError(f"{path}: {status} {body}")
    if found is not None:
        data = body["data"]
        found[name] = len(data) if isinstance(data, list) else sum(data["captures_per_day"])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--token", required=True, help="an admin's access token")
    parser.add_argument("--until", required=True, type=dt.date.fromisoformat)
    parser.add_argument("--lookup", default="/products.getByBarcode/2000000000046")
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    result = measure(args.url, args.token, until=args.until, lookup=args.lookup, runs=args.runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
