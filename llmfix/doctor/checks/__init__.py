"""The doctor's checks. Each takes what it needs and returns a list of findings."""
