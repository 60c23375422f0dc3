"""Where the tests find the checkout: its root (setup.cfg puts this folder on the tests' import
path, so every test folder, at any depth, reads the same ``ROOT``)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
