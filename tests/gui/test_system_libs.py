"""The first start on a plain Linux: the X11 libraries Qt's xcb plugin links against are found missing by the
dynamic linker before Qt aborts, and the exact install line is given for Debian, Fedora and Arch."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from resyolo_gui import system_libs
from resyolo_gui.app import main

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None or not sys.platform.startswith("linux"),
                               reason="builds a tiny shared library with gcc (Linux)")


def fake_plugin(tmp_path, soname: str):
    """A shared object linked against ``soname``, which is then removed: what a missing xcb library looks like."""
    (tmp_path / "dep.c").write_text("int dep(void) { return 1; }\n")
    (tmp_path / "plugin.c").write_text("int dep(void); int plugin(void) { return dep(); }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", f"-Wl,-soname,{soname}", "-o", tmp_path / soname, tmp_path / "dep.c"],
                   check=True)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", tmp_path / "libqxcb.so", tmp_path / "plugin.c",
                    tmp_path / soname], check=True)
    (tmp_path / soname).unlink()
    return tmp_path / "libqxcb.so"


@needs_gcc
def test_missing_library_is_found_by_the_dynamic_linker(tmp_path):
    plugin = fake_plugin(tmp_path, "libresyolo-absent.so.0")  # a real xcb soname may be installed here
    assert system_libs.missing_libraries(plugin) == ["libresyolo-absent.so.0"]


def test_the_installed_plugin_has_every_library_here():
    assert system_libs.xcb_plugin() is not None
    assert system_libs.missing_libraries() == []  # .ci/run installed them; a new machine gets them from ./dev


def test_install_hint_names_the_packages_of_each_distribution():
    hint = system_libs.install_hint(["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"], ["xdotool"])
    assert "sudo apt-get install -y libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 xdotool" in hint
    assert "sudo dnf install -y xcb-util-cursor xcb-util-wm xcb-util-keysyms xdotool" in hint
    assert "sudo pacman -S --needed xcb-util-cursor xcb-util-wm xcb-util-keysyms xdotool" in hint


def test_unknown_library_is_named_as_it_is():
    assert system_libs.packages_for(["libweird.so.3"], [], 0) == ["libweird.so.3"]


def test_app_says_what_to_install_instead_of_a_qt_abort(monkeypatch, capsys):
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(system_libs, "missing_libraries", lambda: ["libxcb-cursor.so.0"])
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "libxcb-cursor.so.0" in err and "sudo apt-get install -y libxcb-cursor0" in err


@needs_gcc
def test_command_line_check_prints_the_line_and_fails(tmp_path, monkeypatch, capsys):
    plugin = fake_plugin(tmp_path, "libresyolo-absent.so.1")
    monkeypatch.setattr(system_libs, "xcb_plugin", lambda: plugin)
    assert system_libs.main([]) == 1  # no --install: only says what to do
    assert "sudo apt-get install -y libresyolo-absent.so.1" in capsys.readouterr().err
