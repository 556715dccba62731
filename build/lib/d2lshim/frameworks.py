"""The frameworks the book teaches in: the one place a framework's identity is written.

Everything else derives from these entries: d2lshim's backend list, the book's cell tags,
tab labels and notebook folders, the environments and lock files of the build
(`locks/<tag>.txt`), the editions for readers, the benches and the tests.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Framework:
    tag: str      # cell tag, notebook folder, environment and lock file name: 'pytorch'
    label: str    # how the book names it, e.g. on its tabs: 'PyTorch'
    backend: str  # d2lshim's module and pip extra: `from d2lshim import torch as d2l`


FRAMEWORKS = {framework.tag: framework for framework in (
    Framework(tag='pytorch', label='PyTorch', backend='torch'),
    Framework(tag='tensorflow', label='TensorFlow', backend='tensorflow'),
    Framework(tag='mxnet', label='MXNet', backend='mxnet'),
)}


def of_backend(module_name):
    """The Framework of the backend module called `module_name` ('d2lshim.torch')."""
    backend = module_name.rsplit('.', 1)[-1]
    return next(f for f in FRAMEWORKS.values() if f.backend == backend)
