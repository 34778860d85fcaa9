"""How ``llmfix apply`` scales with the number of helpers in one file.

Generates an open-instruct checkout whose ``run_utils.py`` holds N copies of a DR Tulu-style
``run_litellm`` (each sets ``num_retries`` and ``fallbacks`` and swallows its error), runs
``llmfix apply`` on a fresh copy per run, and the floor (libcst parse and render of the same
file) beside it. Prints CPU medians, the CPU per helper at each N (equal when apply is
linear) and the goal: 1,000 helpers in under 5 s.

    python bench/helper_scaling.py [--sizes 100,1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import checked, llmfix_command, median, run_measured  # noqa: E402

GOAL_SECONDS = 5.0  # 1,000 helpers, CPU
HELPER = """
def run_litellm_{i}(model_name, user_prompt, **chat_kwargs):
    chat_kwargs["num_retries"] = chat_kwargs.get("num_retries", 5)
    chat_kwargs["fallbacks"] = chat_kwargs.get("fallbacks", [])
    try:
        response = litellm.completion(model=model_name, messages=[{{"role": "user", "content": user_prompt}}], **chat_kwargs)
    except Exception:
        return ""
    return response.choices[0].message.content

"""
FLOOR = "import libcst, sys; libcst.parse_module(open(sys.argv[1]).read()).code"


def checkout(root: Path, helpers: int) -> Path:
    """A checkout under ``root`` whose run_utils.py holds ``helpers`` helpers; its run_utils.py."""
    package = root / "open_instruct" / "rubrics"
    package.mkdir(parents=True)
    (root / "open_instruct" / "__init__.py").write_text("", encoding="utf-8")
    (package / "__init__.py").write_text("", encoding="utf-8")
    path = package / "run_utils.py"
    path.write_text("import litellm\n\n" + "".join(HELPER.format(i=i) for i in range(helpers)), encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    per_helper = {}
    with tempfile.TemporaryDirectory(prefix="llmfix-bench-scaling-") as tmp:
        for size in sizes:
            template = Path(tmp) / f"template-{size}"
            target = checkout(template, size)
            applies, floors = [], []
            for index in range(args.runs):
                copy = Path(tmp) / f"run-{size}-{index}"
                shutil.copytree(template, copy)
                floors.append(checked(run_measured([sys.executable, "-c", FLOOR, str(target)]), "floor").cpu)
                applies.append(checked(run_measured([*llmfix_command(), "apply", "-q", str(copy)]), "llmfix apply").cpu)
            apply_cpu, floor_cpu = median(applies), median(floors)
            per_helper[size] = apply_cpu / size
            print(
                f"{size:>5} helpers: apply {apply_cpu:.2f} s CPU, floor {floor_cpu:.2f} s ({apply_cpu / floor_cpu:.1f}x), "
                f"{1000 * per_helper[size]:.1f} ms per helper (medians of {args.runs})"
            )
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        print(f"per helper at {large} / at {small}: {per_helper[large] / per_helper[small]:.2f} (1.0: linear)")
    if 1000 in per_helper:
        seconds = per_helper[1000] * 1000
        print(f"1,000 helpers: {seconds:.2f} s CPU (goal < {GOAL_SECONDS:.0f} s: {'met' if seconds < GOAL_SECONDS else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
