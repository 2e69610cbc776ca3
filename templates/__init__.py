"""The templates the package ships: this folder is installed as ``juniper_rollout.templates`` (see
pyproject.toml) and found with importlib.resources; a fleet can name its own with ``templates:``."""
