#!/usr/bin/env python3
"""A small closed-loop load client for `GET /v1/patients/{nhs}/record`, for either gateway (CareGate or the peer).

Like `caregate bench audit`'s load generator: C concurrent clients, each sending its next request as soon as the last
one is answered, round-robin over the first N simulated patients (each with its own token, since CareGate only shows a
record to a token launched for that patient), a warm-up that is not counted, then a measured run. Prints queries/s,
p50/p99 latency, non-200 answers and answers with an incomplete view (a provider timed out or failed).

    python closed_loop.py --url http://127.0.0.1:8090 --concurrency 32 --seconds 20 --patients 50 \\
        --token-command '/tmp/caregate-bin/caregate token --role R8000 --patient {nhs} --data-dir data --ttl 1h'

The client is itself Python on the same machine: it takes CPU from the gateway it measures (less than either
gateway, but not nothing), the same for both gateways.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import subprocess
import sys
import time

import aiohttp

from check_peer import simulated_nhs_numbers


async def run(url: str, tokens: list, concurrency: int, warmup: float, seconds: float, timeout: float) -> dict:
    latencies = []
    errors = 0
    incomplete = 0
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        start = time.monotonic()
        warm_end = start + warmup
        end = warm_end + seconds

        async def client(worker: int):
            nonlocal errors, incomplete
            index = worker
            while time.monotonic() < end:
                nhs, token = tokens[index % len(tokens)]
                index += concurrency
                started = time.monotonic()
                try:
                    async with session.get(f"{url.rstrip('/')}/v1/patients/{nhs}/record",
                                           headers={"Authorization": f"Bearer {token}"}) as response:
                        await response.read()
                        ok = response.status == 200
                        complete = response.headers.get("CareGate-Complete") == "true"
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    ok, complete = False, False
                if started >= warm_end:
                    latencies.append(time.monotonic() - started)
                    if not ok:
                        errors += 1
                    elif not complete:
                        incomplete += 1

        await asyncio.gather(*(client(worker) for worker in range(concurrency)))
    latencies.sort()

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000 if latencies else 0.0

    return {"queries_per_second": len(latencies) / seconds, "p50_ms": percentile(0.5), "p99_ms": percentile(0.99),
            "requests": len(latencies), "errors": errors, "incomplete": incomplete}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the gateway's base URL")
    parser.add_argument("--token-command", required=True, help="a command printing a token for {nhs}")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--patients", type=int, default=50, help="the first N simulated patients (default 50)")
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args(argv)

    tokens = []
    for nhs in simulated_nhs_numbers(args.patients):
        command = shlex.split(args.token_command.replace("{nhs}", nhs))
        tokens.append((nhs, subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()))
    result = asyncio.run(run(args.url, tokens, args.concurrency, args.warmup, args.seconds, args.timeout))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.url}: {result['queries_per_second']:.0f} queries/s, p50 {result['p50_ms']:.1f} ms, "
              f"p99 {result['p99_ms']:.1f} ms, {result['requests']} requests, {result['errors']} errors, "
              f"{result['incomplete']} incomplete ({args.concurrency} clients, {args.seconds:g} s after "
              f"{args.warmup:g} s warm-up, {args.patients} patients)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
