"""Editors for files that humans also edit: each touches only the tool's own part."""
