"""The first full pull: every page of /sync.pull from no cursor until `has_more` is false.

    python bench/pull.py http://127.0.0.1:8000 --token T [--no-gzip]

As the offline app does it on its first sync: `GET /sync.pull`, then again with
each `next_cursor` while `has_more` is true, at the default page size. The time is
the sum of the requests' round trips (sent, answered, read), on one keep-alive
connection. The bytes are what came over the wire. Asked with
`Accept-Encoding: gzip`, an answer that comes compressed is counted compressed;
either way, what gzip (level 6) would make of each body is computed too, outside
the timed part.
"""

import argparse
import gzip
import json

from servers import Client


def full_pull(url: str, token: str, *, accept_gzip: bool) -> dict:
    """Pull everything; return the time, the pages, the records and the bytes."""
    headers = {"Accept-Encoding": "gzip"} if accept_gzip else {}
    client = Client(url, token, headers=headers)
    cursor, seconds, pages, products = None, 0.0, 0, 0
    wire = plain = gzipped = 0
    compressed = 0
    while True:
        path = "/sync.pull" + (f"?cursor={cursor}" if cursor else "")
        status, data, answer_headers, elapsed = client.raw("GET", path)
        seconds += elapsed
        if answer_headers.get("Content-Encoding") == "gzip":
            compressed += 1
            body = gzip.decompress(data)
        else:
            body = data
        if status != 200:
            raise RuntimeError(f"pull page {pages + 1}: {status} {body[:300]!r}")
        answer = json.loads(body)
        pages += 1
        products += len(answer["data"]["products"]["changed"])
        wire += len(data)
        plain += len(body)
        gzipped += len(gzip.compress(body, compresslevel=6))
        if not answer["has_more"]:
            break
        cursor = answer["next_cursor"]
    return {
        "seconds": seconds,
        "pages": pages,
        "products": products,
        "wire_bytes": wire,
        "json_bytes": plain,
        "gzip_bytes": gzipped,
        "compressed_pages": compressed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--token", required=True)
    parser.add_argument("--no-gzip", action="store_true", help="do not send Accept-Encoding")
    args = parser.parse_args()
    print(json.dumps(full_pull(args.url, args.token, accept_gzip=not args.no_gzip)))


if __name__ == "__main__":
    main()
