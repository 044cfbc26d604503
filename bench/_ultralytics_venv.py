"""The Ultralytics environment the benchmarks compare against: ``.bench-venvs/ultralytics``, never this project's.

Made on first use with pip: ``ultralytics`` and what it needs that is not already here; torch, torchvision, numpy
are read from this project's environment through a ``.pth`` file, never installed into it or changed. When it
cannot be made (offline, no pip) :func:`ultralytics_python` says why instead.
"""
from __future__ import annotations

import subprocess
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".bench-venvs" / "ultralytics"


def ultralytics_python() -> tuple[Path | None, str]:
    """The Ultralytics environment's python (made on first use), or None and why not."""
    python = VENV / "bin" / "python"
    if python.is_file() and run_quiet([str(python), "-c", "import ultralytics"]):
        return python, "ready"
    if VENV.is_symlink():  # someone else's environment linked here: never cleared or rebuilt from this side
        return None, f"{VENV} links to {VENV.resolve()}, which cannot import ultralytics; not rebuilt"
    try:
        import sysconfig

        VENV.parent.mkdir(parents=True, exist_ok=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
        # This project's packages (torch, torchvision, numpy, ...) are visible read-only, after the venv's own.
        Path(site, "_resyolo_base.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        print(f"creating {VENV} with pip install ultralytics (once; this takes a few minutes)...", flush=True)
        done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "ultralytics"], capture_output=True,
                              text=True)
        if done.returncode != 0:
            return None, f"pip install ultralytics failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}"
    except (OSError, subprocess.CalledProcessError) as error:
        return None, f"cannot create {VENV}: {error}"
    if not run_quiet([str(python), "-c", "import ultralytics"]):
        return None, f"{VENV} was made but cannot import ultralytics"
    return python, "created"


def run_quiet(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True).returncode == 0
