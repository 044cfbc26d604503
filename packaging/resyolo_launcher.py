"""Entry script of the frozen app (the PyInstaller bundle runs this file).

It is not ``resyolo_gui/app.py`` itself so that ``app.py`` stays a module inside its package: its paths to
``assets/`` (sample project, icons) then resolve inside the bundle exactly as in a source checkout.

``--self-test`` (hidden, for ``build_bundle.sh``) checks what only a frozen app can get wrong: a spawned
DataLoader worker (training) and an ONNX export + onnxruntime run (File > Export model to ONNX...).
"""
import multiprocessing
import sys


def main() -> int:
    # First thing: in a frozen app a spawned worker process re-runs this executable, and freeze_support()
    # is what turns that run into the worker instead of a second window.
    multiprocessing.freeze_support()
    if sys.argv[1:2] == ["--self-test"]:
        from bundle_self_test import run_self_test

        return run_self_test()
    from resyolo_gui.app import main as app_main

    return app_main()


if __name__ == "__main__":
    sys.exit(main())
