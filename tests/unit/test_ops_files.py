"""The operator files are valid for the tools that read them."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

OPS = Path(__file__).resolve().parents[2] / "ops"
COMPOSE = OPS.parent / "docker-compose.yml"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian package prometheus) not installed")
@pytest.mark.parametrize("check", [["check", "rules", "alerts.yml"], ["check", "config", "prometheus.yml"]])
def test_promtool_accepts_the_prometheus_files(check: list[str]) -> None:
    result = subprocess.run(["promtool", *check], cwd=OPS, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def _exported() -> set[str]:
    from ops.monitor import _RETENTION_HELP

    return {"newsflow_queue_depth", "newsflow_events_total", "newsflow_feeds", "newsflow_dead_letters",
            "up", *_RETENTION_HELP}


def _metrics_in(expr: str) -> set[str]:
    return set(re.findall(r"\b(newsflow_[a-z_]+|up)\b", expr))


def test_alerts_use_only_metrics_the_monitor_exports() -> None:
    rules = yaml.safe_load((OPS / "alerts.yml").read_text())["groups"][0]["rules"]
    for rule in rules:
        assert _metrics_in(rule["expr"]) <= _exported(), rule["alert"]


def test_dashboard_panels_use_only_metrics_the_monitor_exports() -> None:
    panels = json.loads((OPS / "grafana-dashboard.json").read_text())["panels"]
    assert panels
    for panel in panels:
        for target in panel["targets"]:
            used = _metrics_in(target["expr"])
            assert used and used <= _exported(), panel["title"]


def test_compose_services_run_newsflow_commands() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"redis", "worker-io", "worker-cpu", "beat", "monitor"} <= set(services)
    assert {"noeviction", "--appendonly", "everysec"} <= set(services["redis"]["command"])
    assert services["worker-io"]["command"][:3] == ["worker", "--queues", "poll,fetch"]
