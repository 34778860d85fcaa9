"""The exit codes every llmfix command uses (CI scripts and pre-commit rely on them)."""

OK = 0  # success, or nothing to do
PENDING = 1  # check: a fix is missing; diff --exit-code: a change is pending; verify: a case failed; doctor: a problem found
ERROR = 2  # drift, bad input or any error; no file was changed
