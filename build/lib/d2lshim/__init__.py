"""d2lshim: one small helper API for the book's lessons, in every framework.

    from d2lshim import torch as d2l        # or: tensorflow, mxnet

Each backend module exposes the same names with the same signatures; framework-free
helpers live once in `d2lshim.common`.
"""
import importlib
import importlib.util

from d2lshim.frameworks import FRAMEWORKS

__version__ = '0.1.0'
BACKENDS = tuple(framework.backend for framework in FRAMEWORKS.values())


def load_backend(name):
    """Import and return the backend module called `name` (one of BACKENDS)."""
    if name not in BACKENDS:
        raise ValueError(f'unknown d2lshim backend {name!r}; available backends: '
                         f'{", ".join(BACKENDS)}')
    return importlib.import_module(f'{__name__}.{name}')


def __getattr__(name):
    if name in BACKENDS:
        return load_backend(name)
    if name.startswith('_') or importlib.util.find_spec(f'{__name__}.{name}'):
        raise AttributeError(name)  # private, or a submodule the import system will load
    # ImportError, not AttributeError: `from d2lshim import jax` would replace an
    # AttributeError's message by a bare "cannot import name 'jax'".
    raise ImportError(f'd2lshim has no backend or attribute {name!r}; available backends: '
                      f'{", ".join(BACKENDS)} (from d2lshim import torch as d2l)', name=name)
