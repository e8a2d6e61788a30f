"""Sign-in latency at the configured bcrypt cost, against bcrypt's own check in the same run.

    python bench/login_latency.py [--rounds 12] [--runs 15]

The app runs in-process on a temporary SQLite database; the baseline is
`bcrypt.checkpw` alone, so the ratio shows what the endpoint adds to the hash.
"""

import argparse
import statistics
import tempfile
import time

import bcrypt
from project import create_app

PASSWORD = "tulip-rocket-harbor-57"


def median_ms(action, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {"INSTANCE_PATH": instance, "BCRYPT_ROUNDS": args.rounds, "LOG_LEVEL": "WARNING"}
        )
        client = app.test_client()
        client.post("/users.signup", json={"email": "bench@example.com", "password": PASSWORD})
        body = {"email": "bench@example.com", "password": PASSWORD}

        def login():
            assert client.post("/users.login", json=body).status_code == 200

        def unknown():
            client.post("/users.login", json={**body, "email": "nobody@example.com"})

        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(args.rounds))
        baseline = median_ms(lambda: bcrypt.checkpw(PASSWORD.encode(), hashed), args.runs)
        good = median_ms(login, args.runs)
        ghost = median_ms(unknown, args.runs)
        app.extensions["db"].dispose()
    print(f"bcrypt cost {args.rounds}, median of {args.runs} runs")
    print(f"{'bcrypt.checkpw alone':28} {baseline:7.1f}ms  1.00x")
    print(f"{'POST /users.login (200)':28} {good:7.1f}ms  {good / baseline:4.2f}x")
    print(f"{'unknown email (401)':28} {ghost:7.1f}ms  {ghost / baseline:4.2f}x")


if __name__ == "__main__":
    main()
