"""The reference of the shipped dashboards, alert rules and alert routing, from the files.

Read when the site is built from ``collector-config/``: the Grafana dashboards
(``grafana/dashboards/*.json``: rows, panels, their descriptions and queries), the
Prometheus rules (``prometheus/alerts.yml``: thresholds, recording rules, alerts) and the
Alertmanager routing tree (``alertmanager/alertmanager.yml``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

CONFIG = Path(__file__).resolve().parents[2] / "collector-config"
DASHBOARDS = CONFIG / "grafana" / "dashboards"
RULES = CONFIG / "prometheus" / "alerts.yml"
ALERTMANAGER = CONFIG / "alertmanager" / "alertmanager.yml"


def _cell(text: object) -> str:
    """``text`` fit for one Markdown table cell: one line, pipes escaped."""
    return re.sub(r"\s+", " ", str(text)).strip().replace("|", "\\|")


def _query(expr: str) -> str:
    return f"`{_cell(expr)}`" if expr else "–"


def dashboards() -> str:
    """One section per dashboard: its rows, and per panel what it shows and queries."""
    out: list[str] = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        out += [f"### {board['title']}", "",
                f"{board.get('description', '')} File `{path.relative_to(CONFIG.parent)}`, "
                f"uid `{board['uid']}`.", ""]
        variables = [v["name"] for v in board.get("templating", {}).get("list", [])]
        if variables:
            out += ["Variables: " + ", ".join(f"`${v}`" for v in variables) + ".", ""]
        header = ["| panel | what it shows, and its queries |", "|---|---|"]
        table: list[str] = []
        for panel in board["panels"]:
            if panel.get("type") == "row":
                if table:
                    out += [*header, *table, ""]
                    table = []
                out += [f"**{panel['title']}**", ""]
                continue
            queries = "".join("<br>" + _query(t.get("expr", "")) for t in panel.get("targets", []))
            table.append(f"| {_cell(panel.get('title', ''))} | "
                         f"{_cell(panel.get('description', ''))}{queries} |")
        if table:
            out += [*header, *table, ""]
    return "\n".join(out)


def _rules() -> list[dict[str, Any]]:
    return list(yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"])


def thresholds() -> str:
    """The constant recording rules the alerts compare against."""
    lines = ["| threshold | value |", "|---|---|"]
    for group in _rules():
        for rule in group["rules"]:
            value = re.fullmatch(r"vector\((.+)\)", str(rule.get("expr", "")).strip())
            if "record" in rule and rule["record"].startswith("agentotel:threshold:") and value:
                lines.append(f"| `{rule['record']}` | {value.group(1)} |")
    return "\n".join(lines) + "\n"


def alerts() -> str:
    """Every alert: a table of severity, ``for`` and summary, then each condition."""
    rules = [rule for group in _rules() for rule in group["rules"] if "alert" in rule]
    lines = ["| alert | severity | for | summary |", "|---|---|---|---|"]
    for rule in rules:
        lines.append(
            f"| {rule['alert']} | "
            f"{rule.get('labels', {}).get('severity', '–')} | {rule.get('for', '–')} | "
            f"{_cell(rule.get('annotations', {}).get('summary', ''))} |"
        )
    lines += ["", "Conditions:", ""]
    for rule in rules:
        description = _cell(rule.get("annotations", {}).get("description", ""))
        expression = ["    " + line for line in rule["expr"].strip().splitlines()]
        lines += [f"`{rule['alert']}`", f": {description}", "", "    ```promql", *expression,
                  "    ```", ""]
    return "\n".join(lines) + "\n"


def recording_rules() -> str:
    """Every recording rule but the thresholds, by group."""
    lines: list[str] = []
    for group in _rules():
        records = [r for r in group["rules"]
                   if "record" in r and not r["record"].startswith("agentotel:threshold:")]
        if records:
            lines += [f"Group `{group['name']}`:", ""]
            lines += [f"- `{r['record']}` = `{_cell(r['expr'])}`" for r in records]
            lines.append("")
    return "\n".join(lines) + "\n"


def routing() -> str:
    """The Alertmanager routing tree, its grouping and its inhibit rules."""
    config = yaml.safe_load(ALERTMANAGER.read_text(encoding="utf-8"))
    route = config["route"]
    integrations = {
        r["name"]: ", ".join(k for k in r if k.endswith("_configs")) or "–"
        for r in config.get("receivers", [])
    }
    lines = ["| matchers | receiver | integration | repeat interval |", "|---|---|---|---|"]
    for child in route.get("routes", []):
        lines.append(f"| {_query(', '.join(child.get('matchers', [])))} | `{child['receiver']}` | "
                     f"{integrations.get(child['receiver'], '–')} | "
                     f"{child.get('repeat_interval', route.get('repeat_interval', '–'))} |")
    lines.append(f"| anything else | `{route['receiver']}` | "
                 f"{integrations.get(route['receiver'], '–')} | "
                 f"{route.get('repeat_interval', '–')} |")
    lines += ["", f"Grouped by {', '.join(f'`{g}`' for g in route.get('group_by', []))}; "
              f"`group_wait` {route.get('group_wait', '–')}, "
              f"`group_interval` {route.get('group_interval', '–')}.", ""]
    for rule in config.get("inhibit_rules", []):
        lines.append(f"- While {_query(', '.join(rule.get('source_matchers', [])))} fires, "
                     f"alerts matching {_query(', '.join(rule.get('target_matchers', [])))} "
                     f"are held back"
                     + (f" (equal: {', '.join(rule['equal'])})." if rule.get("equal") else "."))
    return "\n".join(lines) + "\n"
