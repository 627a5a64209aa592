#!/usr/bin/env python3
"""Checks that every metric a dashboard or an alert rule queries is one CareGate exports.

    python3 deploy/check_metrics_names.py deploy/grafana/*.json deploy/prometheus/alerts.yaml

Reads every PromQL expression (`expr` anywhere in a Grafana dashboard, `query`/`definition` of its template
variables; `expr` of every rule in a Prometheus rule file), takes out strings, label matchers, ranges, grouping
clauses, functions and keywords, and checks what is left — the metric names — against EXPORTED below (a
histogram's `_bucket`, `_sum` and `_count` series count as the histogram). Also fails on a file with no
expression at all, so a renamed key cannot make the check pass vacuously. Exit 1 naming each unknown metric.
"""
import json
import re
import sys

import yaml

# Every metric the gateway exports (GatewayServer's metrics), and its kind.
EXPORTED = {
    "caregate_provider_request_duration_seconds": "histogram",
    "caregate_provider_outcomes_total": "counter",
    "caregate_provider_in_flight": "gauge",
    "caregate_provider_entries_total": "counter",
    "caregate_provider_circuit_state": "gauge",
    "caregate_provider_client_certificate_expiry_timestamp_seconds": "gauge",
    "caregate_tls_certificate_expiry_timestamp_seconds": "gauge",
    "caregate_provider_changes_read": "gauge",
    "caregate_access_most_patients_per_user_last_hour": "gauge",
    "caregate_provider_changes_unapplied": "gauge",
    "caregate_query_duration_seconds": "histogram",
    "caregate_gateway_overhead_seconds": "histogram",
    "caregate_merge_duplicates_collapsed_total": "counter",
    "caregate_policy_decisions_total": "counter",
    "caregate_break_glass_total": "counter",
    "caregate_break_glass_awaiting_review": "gauge",
    "caregate_break_glass_oldest_awaiting_review_timestamp_seconds": "gauge",
    "caregate_audit_write_duration_seconds": "histogram",
    "caregate_audit_failures_total": "counter",
    "caregate_authentication_failures_total": "counter",
    "caregate_federated_decisions_total": "counter",
}
# Series Prometheus makes itself for every scrape target.
BUILTIN = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}

KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
    "inf", "nan", "atan2", "start", "end",
}
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr):
    """The metric names an expression reads."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)   # strings
    text = re.sub(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*", "", text)                  # Grafana variables
    text = re.sub(r"\{[^}]*\}", "", text)                                                # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)                                               # ranges, subqueries
    text = GROUPING.sub("", text)
    # Numbers and durations (1e3, 0.99, offset 1h30m).
    text = re.sub(r"(?<![A-Za-z0-9_:])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?:(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)?", " ", text)
    # label_values(metric, label): the second argument is a label, not a metric.
    text = re.sub(r"label_values\s*\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\)", r"\1", text)
    text = re.sub(r"label_values\s*\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)", "", text)
    names = set()
    for match in IDENT.finditer(text):
        word = match.group(0)
        rest = text[match.end():].lstrip()
        if rest.startswith("("):          # a function
            continue
        if word.lower() in KEYWORDS:
            continue
        names.add(word)
    return names


def exported(name):
    if name in EXPORTED or name in BUILTIN:
        return True
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and EXPORTED.get(name[: -len(suffix)]) == "histogram":
            return True
    return False


def dashboard_expressions(node, where="$"):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield where + ".expr", value
            elif key == "templating" and isinstance(value, dict):
                for variable in value.get("list", []):
                    if variable.get("type") != "query":
                        continue
                    query = variable.get("query")
                    if isinstance(query, dict):
                        query = query.get("query")
                    for text in (query, variable.get("definition")):
                        if isinstance(text, str) and text:
                            yield f"{where}.templating.{variable.get('name')}", text
            else:
                yield from dashboard_expressions(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from dashboard_expressions(value, f"{where}[{index}]")


def rule_expressions(document):
    for group in (document or {}).get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record") or "?"
            yield f"{group.get('name')}/{name}", rule.get("expr", "")


def main(paths):
    problems = []
    counted = 0
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            if path.endswith(".json"):
                expressions = list(dashboard_expressions(json.load(handle)))
            else:
                expressions = list(rule_expressions(yaml.safe_load(handle)))
        if not expressions:
            problems.append(f"{path}: no PromQL expressions found")
        for where, expr in expressions:
            counted += 1
            names = metric_names(str(expr))
            if not names:
                problems.append(f"{path}: {where}: no metric name in {expr!r}")
            for name in sorted(names - {n for n in names if exported(n)}):
                problems.append(f"{path}: {where}: unknown metric {name!r} (not exported by the gateway)")
    for problem in problems:
        print("check_metrics_names: " + problem, file=sys.stderr)
    if problems:
        return 1
    print(f"check_metrics_names: {counted} expressions in {len(paths)} files use only exported metrics")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
