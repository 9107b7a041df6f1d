"""The dependency audit's rule (scripts/audit.py): fail on findings, say so loudly when it could not check."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("audit", ROOT / "scripts" / "audit.py")
audit = importlib.util.module_from_spec(spec)
sys.modules["audit"] = audit  # dataclasses look their module up
spec.loader.exec_module(audit)

CLEAN = {"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []}]}
VULNERABLE = {
    "dependencies": [
        {
            "name": "django",
            "version": "5.2.1",
            "vulns": [{"id": "PYSEC-2025-1", "fix_versions": ["5.2.2"], "aliases": ["CVE-2025-0001"]}],
        },
        {"name": "redis", "version": "8.1.0", "vulns": []},
    ]
}
UNKNOWN = {
    "dependencies": [{"name": "gunicorn", "skip_reason": "Dependency not found on PyPI"}, *CLEAN["dependencies"]]
}


def test_a_clean_report_passes():
    verdict = audit.judge(CLEAN)
    assert verdict.exit_code == 0
    assert verdict.lines == ["audit: no known vulnerabilities in 1 pinned packages"]


@pytest.mark.parametrize("strict", [False, True])
def test_a_known_vulnerability_fails_naming_package_advisory_and_fix(strict):
    verdict = audit.judge(VULNERABLE, strict=strict)
    assert verdict.exit_code == 1
    assert "django 5.2.1: PYSEC-2025-1 (CVE-2025-0001); fixed in 5.2.2" in "\n".join(verdict.lines)


def test_versions_the_database_does_not_know_pass_but_are_named():
    verdict = audit.judge(UNKNOWN)
    assert verdict.exit_code == 0
    assert any(line.startswith("AUDIT INCOMPLETE") and "gunicorn" in line for line in verdict.lines)
    assert audit.judge(UNKNOWN, strict=True).exit_code == 1


def test_an_unreachable_database_passes_loudly_unless_strict():
    error = "requests.exceptions.ConnectionError: Failed to resolve 'pypi.org'"
    verdict = audit.judge(None, error=error)
    assert verdict.exit_code == 0
    assert verdict.lines[0].startswith("AUDIT INCOMPLETE: the vulnerability database could not be reached")
    assert "Failed to resolve" in verdict.lines[1]
    assert audit.judge(None, error=error, strict=True).exit_code == 1


def test_the_audit_runs_over_the_pinned_requirements():
    result = subprocess.run([sys.executable, "scripts/audit.py"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert "audit:" in output or "AUDIT" in output
    assert result.returncode == (1 if "AUDIT FAILED" in output else 0)
