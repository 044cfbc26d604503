"""The system libraries Qt's X11 (xcb) platform plugin needs, checked before Qt starts.

PySide6's wheels bring Qt but not the X client libraries it links against; on a plain Debian or Ubuntu
machine ``libxcb-cursor0``, ``libxcb-icccm4`` and ``libxcb-keysyms1`` are usually missing, and Qt then aborts with
"Could not load the Qt platform plugin xcb". :func:`missing_libraries` asks the dynamic linker (``ldd`` on the
plugin) which libraries cannot be found, and :func:`install_hint` gives the exact package-manager line.

``python -m resyolo_gui.system_libs [--install] [--test-tools]`` is what ``./dev`` runs: it checks, installs the
packages as root (apt-get), or prints the line to run, and exits non-zero if something is still missing. No Qt
import here: this must work exactly when Qt cannot.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

# soname -> (Debian/Ubuntu package, Fedora package, Arch package)
PACKAGES = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util", "xcb-util"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11"),
    "libX11.so.6": ("libx11-6", "libX11", "libx11"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libglvnd"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype", "freetype2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
}
# What the real-window tests (tests/e2e) need besides the app's own libraries: a virtual screen, a window
# manager and real input events. command -> (Debian package, Fedora package, Arch package)
TEST_TOOLS = {
    "Xvfb": ("xvfb", "xorg-x11-server-Xvfb", "xorg-server-xvfb"),
    "openbox": ("openbox", "openbox", "openbox"),
    "xdotool": ("xdotool", "xdotool", "xdotool"),
}
MANAGERS = (("apt-get", "sudo apt-get install -y"), ("dnf", "sudo dnf install -y"), ("pacman", "sudo pacman -S --needed"))


def xcb_plugin() -> Path | None:
    """Qt's xcb platform plugin inside the installed PySide6, found without importing Qt."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(list(spec.submodule_search_locations)[0]) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.exists() else None


def missing_libraries(plugin: Path | None = None) -> list[str]:
    """Sonames the dynamic linker cannot find for the xcb plugin (empty when all is there, or off Linux)."""
    plugin = plugin or xcb_plugin()
    if plugin is None or not sys.platform.startswith("linux") or shutil.which("ldd") is None:
        return []
    output = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
    return sorted({line.split()[0] for line in output.splitlines() if "not found" in line})


def missing_test_tools() -> list[str]:
    return [tool for tool in TEST_TOOLS if shutil.which(tool) is None]


def packages_for(sonames: list[str], tools: list[str], column: int) -> list[str]:
    """Package names (``column`` 0 Debian, 1 Fedora, 2 Arch); an unknown soname is named as it is."""
    names = [PACKAGES[s][column] if s in PACKAGES else s for s in sonames] + [TEST_TOOLS[t][column] for t in tools]
    return list(dict.fromkeys(names))


def install_hint(sonames: list[str], tools: list[str] = ()) -> str:
    lines = [f"{command} {' '.join(packages_for(sonames, list(tools), column))}"
             for column, (_manager, command) in enumerate(MANAGERS)]
    return ("Debian/Ubuntu:  {}\nFedora:         {}\nArch:           {}").format(*lines)


def apt_install(packages: list[str]) -> bool:
    """Install with apt-get as root (the package lists are refreshed first). True when it worked."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    update = subprocess.run(["apt-get", "update", "-qq"], env=env)
    result = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env)
    return update.returncode == 0 and result.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m resyolo_gui.system_libs",
                                     description="Check (and as root install) the system libraries Qt needs.")
    parser.add_argument("--install", action="store_true", help="install what is missing, when run as root with apt-get")
    parser.add_argument("--test-tools", action="store_true", help="also Xvfb, openbox and xdotool (tests/e2e)")
    args = parser.parse_args(argv)
    sonames = missing_libraries()
    tools = missing_test_tools() if args.test_tools else []
    if not sonames and not tools:
        return 0
    what = ", ".join(sonames + tools)
    can_install = args.install and os.geteuid() == 0 and shutil.which("apt-get") is not None
    if can_install:
        print(f"Installing what Qt's X11 window support needs ({what}) with apt-get…", file=sys.stderr)
        if apt_install(packages_for(sonames, tools, 0)) and not missing_libraries() and not (
                args.test_tools and missing_test_tools()):
            return 0
        print("The installation did not finish; install them by hand.", file=sys.stderr)
    print(f"ResYOLO's window (Qt's X11 plugin) needs system libraries that are missing: {what}\n"
          f"Install them with:\n{install_hint(sonames, tools)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
