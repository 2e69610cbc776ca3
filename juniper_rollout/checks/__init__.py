"""The checks of `rollout verify`, one module per noun: the check vocabulary (base), the sops
configuration and its rules, the secret files (plaintext tracked, *.enc), .gitignore, the pre-commit
hooks, the age key. Each takes what verify read of a repo at a ref (RefFiles) and returns a Check."""
