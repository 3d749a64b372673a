"""Run a module as on a machine without TensorFlow: ``python -m tests.support.without_tensorflow
MODULE ARGS...``; importing ``tensorflow`` or ``tf2onnx`` fails as if neither were installed.

The PyTorch trainer's tests run through this, so they prove it needs no TensorFlow (this
project's own environment has both).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import runpy
import sys

HIDDEN = ("tensorflow", "tf2onnx", "tf_keras")


class _Missing(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        raise ModuleNotFoundError(f"No module named {spec.name!r}", name=spec.name)

    def exec_module(self, module: object) -> None:  # never reached
        raise AssertionError


class _Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object = None, target: object = None):
        if name.split(".")[0] in HIDDEN:
            return importlib.machinery.ModuleSpec(name, _Missing())
        return None


if __name__ == "__main__":
    sys.meta_path.insert(0, _Hide())
    module, sys.argv = sys.argv[1], sys.argv[1:]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
