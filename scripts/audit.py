#!/usr/bin/env python3
"""Dependency audit: pip-audit over every pinned package (requirements-dev.txt includes requirements.txt).

Run by `make test` (so by CI). The rule:
- a known vulnerability in a pinned version fails the run (exit 1), listing package, version,
  advisory and the versions that fix it;
- a vulnerability database that cannot be reached, or that has no record of some pinned
  versions, does not fail it, but says so loudly ("AUDIT INCOMPLETE"): an outage of the
  advisory service must not block every change, and a quiet pass would be a lie.
  OUTAGEHUB_AUDIT_STRICT=1 makes those fail too (for a release build).

Every package is pinned, transitive ones included, so pip-audit reads the file as it is
(--no-deps) and installs nothing (--disable-pip).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements-dev.txt"


@dataclass
class Verdict:
    exit_code: int
    lines: list[str] = field(default_factory=list)


def judge(report: dict | None, *, error: str = "", strict: bool = False) -> Verdict:
    """What a pip-audit JSON report (None: pip-audit could not produce one) means for the build."""
    if report is None:
        said = error.strip().splitlines()[-1] if error.strip() else "nothing"
        unreachable = ["AUDIT INCOMPLETE: the vulnerability database could not be reached; nothing was checked."]
        return Verdict(1 if strict else 0, [*unreachable, f"  pip-audit said: {said}"])
    found, skipped = [], []
    for dependency in report.get("dependencies", []):
        if "skip_reason" in dependency:
            skipped.append(dependency["name"])
        for vuln in dependency.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions", [])) or "none yet"
            aliases = ", ".join(vuln.get("aliases", []))
            found.append(
                f"  {dependency['name']} {dependency['version']}: {vuln['id']}"
                + (f" ({aliases})" if aliases else "")
                + f"; fixed in {fixes}"
            )
    lines: list[str] = []
    if found:
        lines += [f"AUDIT FAILED: {len(found)} known vulnerabilities in pinned packages:", *found]
    if skipped:
        lines.append(
            f"AUDIT INCOMPLETE: the vulnerability database has no record of {len(skipped)} pinned "
            f"version(s), which were not checked: {', '.join(sorted(skipped))}"
        )
    if not found and not skipped:
        lines.append(f"audit: no known vulnerabilities in {len(report.get('dependencies', []))} pinned packages")
    elif not found:
        lines.append("audit: no known vulnerabilities in the packages that could be checked")
    return Verdict(1 if found or (strict and skipped) else 0, lines)


def main() -> int:
    pip_audit = Path(sys.executable).parent / "pip-audit"
    command = [str(pip_audit), "-r", str(REQUIREMENTS), "--no-deps", "--disable-pip"]
    command += ["--progress-spinner", "off", "--format", "json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603 - our own command line
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        report = None
    verdict = judge(report, error=result.stderr, strict=os.environ.get("OUTAGEHUB_AUDIT_STRICT") == "1")
    print("\n".join(verdict.lines), file=sys.stderr if verdict.exit_code else sys.stdout)
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())
