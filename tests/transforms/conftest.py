"""The harness's asserts get pytest's explanations (it is a helper module, not a test module)."""

import pytest

pytest.register_assert_rewrite("harness")
