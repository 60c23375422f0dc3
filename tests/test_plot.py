"""Figures: Agg is chosen only where there is no display and nobody chose a backend."""

import os
import subprocess
import sys

import pytest

CODE = ("from minseq.plot import pyplot; import matplotlib; pyplot(); "
        "print(matplotlib.get_backend())")


def backend_after_pyplot(**env):
    clean = {k: v for k, v in os.environ.items()
             if k not in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run([sys.executable, "-c", CODE], env=dict(clean, **env),
                          capture_output=True, text=True, check=True).stdout.strip().lower()


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="display detection is X11 / Wayland")
def test_without_a_display_figures_are_drawn_with_agg():
    assert backend_after_pyplot() == "agg"


def test_a_chosen_backend_is_kept():
    assert backend_after_pyplot(MPLBACKEND="pdf") == "pdf"


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="display detection is X11 / Wayland")
def test_a_display_is_an_x11_or_wayland_one(monkeypatch):
    from minseq.plot import has_display
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert not has_display()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert has_display()
