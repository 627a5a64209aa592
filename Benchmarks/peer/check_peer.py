#!/usr/bin/env python3
"""Checks that the Python peer gateway gives the same merged view as CareGate ("same merge rules").

For each NHS number it fetches `GET /v1/patients/{nhs}/record` from both gateways and compares:
  - every provider answered (`ok`) in both, so the two views were built from the same inputs;
  - the number of entries per category;
  - the multiset of (category, code system|code, date) keys;
  - with --strict, the whole entries (ids, summaries, sources, status, value, dose, conflicts).

CareGate applies its role policy; the peer does not. When CareGate reports `withheld > 0` for a patient, the check
compares only what CareGate could show: every CareGate key must be in the peer's view, and the peer's extra entries
(what the policy withheld) may be at most `withheld`. The figures are printed; with the demo clinician's role
(R8000, which sees every category and every sensitive group) nothing is withheld and the comparison is exact.

CareGate only shows a record to a token launched for that patient, so pass --token-command to mint one per patient
(the peer accepts any valid token):

    python check_peer.py --caregate http://127.0.0.1:8080 --peer http://127.0.0.1:8090 --simulated 25 \\
        --token-command '/tmp/caregate-bin/caregate token --role R8000 --patient {nhs} --data-dir data'

Numbers can be given as arguments instead of --simulated N (the first N patients of the simulator's population).
Exits 0 when every patient agrees, 1 otherwise.
"""

from __future__ import annotations

import argparse
import collections
import json
import shlex
import subprocess
import sys
import urllib.error
import urllib.request


# The simulator's population (Sources/ProviderSimulator/SyntheticPopulation.swift, SplitMix64.swift): NHS numbers only.
class SplitMix64:
    MASK = (1 << 64) - 1

    def __init__(self, seed: int):
        self.state = seed & self.MASK

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)

    def int_in(self, low: int, high: int) -> int:
        return low + self.next() % (high - low + 1)

    def fork(self) -> "SplitMix64":
        return SplitMix64(self.next())


def simulated_nhs_numbers(count: int, seed: int = 20_261_125) -> list:
    master = SplitMix64(seed)
    numbers = []
    for _ in range(count):
        identity = master.fork()
        master.fork()  # the profile's generator
        master.fork()  # the history's generator
        while True:
            digits = [9, 9, 9] + [identity.int_in(0, 9) for _ in range(6)]
            check = 11 - sum(d * (10 - i) for i, d in enumerate(digits)) % 11
            check = 0 if check == 11 else check
            if check == 10:
                continue
            number = "".join(map(str, digits + [check]))
            if number not in numbers:
                numbers.append(number)
                break
    return numbers


def fetch(base: str, nhs: str, token: str, timeout: float) -> dict:
    request = urllib.request.Request(
        f"{base.rstrip('/')}/v1/patients/{nhs}/record", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{base}: HTTP {error.code}: {error.read()[:300].decode(errors='replace')}") from None


def key(entry: dict) -> tuple:
    code = entry.get("code") or {}
    concept = f"{code.get('system', '')}|{code['code']}" if code.get("code") else f"text|{code.get('display') or entry['summary']}"
    return (entry["category"], concept, entry.get("date", ""))


def compare(nhs: str, caregate: dict, peer: dict, strict: bool) -> list:
    problems = []
    # CareGate does not ask a provider that supplies none of the categories the caller's role may see (`skipped`).
    for name, view, accepted in (("caregate", caregate, ("ok", "skipped")), ("peer", peer, ("ok",))):
        failed = [f"{p['id']}={p['status']}" for p in view["providers"] if p["status"] not in accepted]
        if failed:
            problems.append(f"{name}: providers did not all answer ({', '.join(failed)}), views are not comparable")
    cg_providers = {p["id"]: p["entries"] for p in caregate["providers"]}
    peer_providers = {p["id"]: p["entries"] for p in peer["providers"]}
    withheld = caregate.get("withheld", 0)
    skipped = sorted(p["id"] for p in caregate["providers"] if p["status"] == "skipped")
    restricted = withheld > 0 or bool(skipped)
    if cg_providers.keys() != peer_providers.keys():
        problems.append(f"provider sets differ: caregate {sorted(cg_providers)} peer {sorted(peer_providers)}")
    elif not restricted and cg_providers != peer_providers:
        diff = {k: (cg_providers[k], peer_providers[k]) for k in cg_providers if cg_providers[k] != peer_providers[k]}
        problems.append(f"entries per provider differ (caregate, peer): {diff}")

    cg_keys = collections.Counter(map(key, caregate["entries"]))
    peer_keys = collections.Counter(map(key, peer["entries"]))
    cg_counts = collections.Counter(e["category"] for e in caregate["entries"])
    peer_counts = collections.Counter(e["category"] for e in peer["entries"])
    if not restricted:
        if cg_counts != peer_counts:
            problems.append(f"entries per category differ: caregate {dict(sorted(cg_counts.items()))} "
                            f"peer {dict(sorted(peer_counts.items()))}")
        for k in sorted((cg_keys - peer_keys).keys()):
            problems.append(f"only in caregate: {k}")
        for k in sorted((peer_keys - cg_keys).keys()):
            problems.append(f"only in peer: {k}")
        if strict and not problems:
            problems += strict_differences(caregate["entries"], peer["entries"])
        return problems

    # CareGate's role policy hid part of the record (the peer has no policy): compare only the categories CareGate
    # returned. Everything CareGate shows must be in the peer's view; within those categories the peer may show at
    # most `withheld` more (sensitive codes); what the peer shows in other categories is what the role may not see.
    visible = set(cg_counts)
    for k in sorted((cg_keys - peer_keys).keys()):
        problems.append(f"only in caregate: {k}")
    extra = peer_keys - cg_keys
    extra_visible = sum(n for k, n in extra.items() if k[0] in visible)
    extra_hidden = collections.Counter()
    for k, n in extra.items():
        if k[0] not in visible:
            extra_hidden[k[0]] += n
    print(f"  {nhs}: role policy — caregate withheld {withheld}"
          f"{', skipped ' + ', '.join(skipped) if skipped else ''}; compared categories {sorted(visible)}: "
          f"peer shows {extra_visible} more there; outside them the peer shows "
          f"{dict(sorted(extra_hidden.items())) or 'nothing'}")
    if extra_visible > withheld:
        problems.append(f"peer has {extra_visible} entries in CareGate's categories that CareGate lacks, "
                        f"more than the {withheld} withheld")
    return problems


def strict_differences(cg_entries: list, peer_entries: list) -> list:
    problems = []
    cg_by_id = {e["id"]: e for e in cg_entries}
    peer_by_id = {e["id"]: e for e in peer_entries}
    for entry_id in sorted(cg_by_id.keys() | peer_by_id.keys()):
        a, b = cg_by_id.get(entry_id), peer_by_id.get(entry_id)
        if a != b:
            fields = sorted(f for f in (a or {}).keys() | (b or {}).keys() if (a or {}).get(f) != (b or {}).get(f))
            problems.append(f"entry {entry_id} differs in {fields}")
    if not problems and [e["id"] for e in cg_entries] != [e["id"] for e in peer_entries]:
        problems.append("same entries, different order")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--caregate", required=True, help="CareGate's base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--peer", required=True, help="the peer's base URL, e.g. http://127.0.0.1:8090")
    tokens = parser.add_mutually_exclusive_group(required=True)
    tokens.add_argument("--token", help="one bearer token for every request")
    tokens.add_argument("--token-command", help="a command printing a token for {nhs} (run once per patient)")
    parser.add_argument("--simulated", type=int, default=0, help="also check the first N simulated patients")
    parser.add_argument("--strict", action="store_true", help="also compare whole entries and their order")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("nhs", nargs="*", help="NHS numbers to check")
    args = parser.parse_args(argv)

    numbers = list(args.nhs) + [n for n in simulated_nhs_numbers(args.simulated) if n not in args.nhs]
    if not numbers:
        parser.error("give NHS numbers or --simulated N")

    disagreements = 0
    totals = collections.Counter()
    for nhs in numbers:
        if args.token is not None:
            token = args.token
        else:
            command = args.token_command.replace("{nhs}", nhs)
            token = subprocess.run(shlex.split(command), check=True, capture_output=True, text=True).stdout.strip()
        try:
            caregate = fetch(args.caregate, nhs, token, args.timeout)
            peer = fetch(args.peer, nhs, token, args.timeout)
        except (RuntimeError, OSError) as error:
            print(f"FAIL  {nhs}: {error}")
            disagreements += 1
            continue
        problems = compare(nhs, caregate, peer, args.strict)
        counts = collections.Counter(e["category"] for e in caregate["entries"])
        totals.update(counts)
        summary = ", ".join(f"{c}={n}" for c, n in sorted(counts.items()))
        if problems:
            disagreements += 1
            print(f"FAIL  {nhs}: {len(caregate['entries'])} vs {len(peer['entries'])} entries")
            for problem in problems[:20]:
                print(f"      {problem}")
            if len(problems) > 20:
                print(f"      … {len(problems) - 20} more")
        else:
            print(f"ok    {nhs}: {len(caregate['entries'])} entries ({summary})")
    agreed = len(numbers) - disagreements
    print(f"{agreed} of {len(numbers)} patients agree"
          f"{' (strict: whole entries and order)' if args.strict else ''}; "
          f"{sum(totals.values())} merged entries compared")
    return 0 if disagreements == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
