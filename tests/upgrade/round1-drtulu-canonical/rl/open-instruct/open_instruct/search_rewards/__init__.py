# Search-based reward functions (rubric judging, citation checks).
