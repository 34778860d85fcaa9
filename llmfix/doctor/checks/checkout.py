"""Check 6a: is the checkout patched? Asks the core's `llmfix check PATH --json` in a subprocess,
so the doctor does not depend on core internals (and never crashes when that command is absent)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from llmfix.doctor.findings import LAYER_CHECKOUT, OK, WARN, Finding
from llmfix.doctor.redact import redact_url

CHECK = "checkout"
CHECK_TIMEOUT = 20.0


class CheckoutCheck:
    """Started early (it runs while the other checks do); collected with ``findings()``."""

    def __init__(self, path: Path, timeout: float = CHECK_TIMEOUT, source: str = "environment") -> None:
        self.path = path
        self.timeout = timeout
        self.source = source
        self.patched: bool | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._start_error = ""
        self._started = 0.0

    def start(self) -> CheckoutCheck:
        self._started = time.monotonic()
        env = dict(os.environ)
        env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "llmfix", "check", str(self.path), "--json"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        except OSError as exc:
            self._start_error = str(exc)
        return self

    def _could_not_run(self, why: str) -> list[Finding]:
        return [Finding(CHECK, WARN, f"could not run `llmfix check {self.path}`: {why}",
                        f"run `llmfix check {self.path}` by hand", [], "check-unavailable", self.source, LAYER_CHECKOUT)]

    def findings(self) -> list[Finding]:
        if self._proc is None:
            return self._could_not_run(self._start_error or "not started")
        remaining = self.timeout - (time.monotonic() - self._started)
        try:
            out, err = self._proc.communicate(timeout=max(remaining, 0.1))
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.communicate()
            return self._could_not_run(f"no answer within {self.timeout:g} s")
        return interpret(self.path, self._proc.returncode, out, err, self, self.source)


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    return redact_url(lines[-1])[:200] if lines else ""  # redacted before it is cut


def interpret(path: Path, code: int, out: str, err: str, holder: Any = None, source: str = "environment") -> list[Finding]:
    """Turn `llmfix check --json` output into findings (a fix ``check`` would add is ``pending``);
    ``source`` names the checkout when PATH holds several."""
    def unavailable(why: str) -> list[Finding]:
        return [Finding(CHECK, WARN, f"could not run `llmfix check {path}`: {why}", f"run `llmfix check {path}` by hand",
                        [], "check-unavailable", source, LAYER_CHECKOUT)]

    try:
        data = json.loads(out) if out.strip() else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or "files" not in data:
        return unavailable(_first_line(err) or f"exit {code}, no JSON report")
    files = [f for f in data.get("files", []) if isinstance(f, dict)]
    pending: list[str] = []
    drift: list[str] = []
    present: list[str] = []
    for f in files:
        for name, info in (f.get("transforms") or {}).items():
            if name == "support":  # the support module llmfix writes beside the fixes, not a fix
                continue
            status = (info or {}).get("status")
            where = f"{name} in {f.get('path')}"
            if status in ("pending", "applied"):
                pending.append(where)
            elif status == "anchor-missing":
                drift.append(f"{where}: {(info or {}).get('reason', '')}".rstrip(": "))
            elif status == "already-present":
                present.append(where)
    detail = [f"pending: {p}" for p in pending] + [f"cannot patch: {d}" for d in drift]
    if code == 0 and not pending and not drift:
        if holder is not None:
            holder.patched = True
        return [Finding(CHECK, OK, f"{path} is patched: {len(present)} fixes present in {len(files)} file(s)", "", [],
                        "", source, LAYER_CHECKOUT)]
    if drift or code == 2:
        return [Finding(CHECK, WARN, f"llmfix check cannot patch parts of {path} ({len(drift)} anchor(s) missing)",
                        f"llmfix diff {path}  (and see the reasons)", detail, "checkout-drift", source, LAYER_CHECKOUT)]
    if holder is not None:
        holder.patched = False
    names = sorted({p.split(" in ", 1)[0] for p in pending})
    return [Finding(CHECK, WARN, f"{path} is not patched: {len(pending)} fix(es) pending ({', '.join(names)}); "
                                 f"LLM failures there end as empty rubrics, silently",
                    f"llmfix apply {path}", detail, "checkout-unpatched", source, LAYER_CHECKOUT)]
