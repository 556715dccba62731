import os

from bookbuild.execute import KERNEL_ENV

# nbval starts its kernels from this process: give them the book build's environment,
# so the re-executed notebooks are comparable with the committed ones.
os.environ.update(KERNEL_ENV)
