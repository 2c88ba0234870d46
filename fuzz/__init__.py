"""Coverage-guided fuzz harnesses (atheris); see README "Fuzzing"."""
