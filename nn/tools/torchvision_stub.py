"""Importing this module lets timm load without torchvision.

timm imports torchvision at package load (its data transforms, ops.misc.FrozenBatchNorm2d), and the
peers venv's torchvision build does not load beside the CPU torch (REFERENCES.md, "Pitfalls"). The
attention modules the golden scripts compare need none of it, so every torchvision.* module becomes
an empty stub package whose every name is a placeholder class (InterpolationMode.NEAREST, ...),
imported by timm's data and layer code and never called.

Use: `import torchvision_stub  # noqa: F401` before `import timm`, from a script in nn/tools/.
"""

import importlib.abc
import importlib.machinery
import sys
import types


class _Placeholder(type):
    """A class whose every attribute is another placeholder class."""

    def __getattr__(cls, attr):
        return _placeholder(attr)


def _placeholder(attr):
    if attr.startswith("__"):
        raise AttributeError(attr)
    return _Placeholder(attr, (), {})


class _TorchvisionStubs(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] != "torchvision":
            return None
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = _placeholder
        return module

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _TorchvisionStubs())
