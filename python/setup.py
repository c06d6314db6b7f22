"""Installs the `sparrow` package (`python -m pip install ./python` from the repository).

Besides the sources, the wheel gets `sparrow/_origin.py` naming the repository it was
built from, so an installed package finds that repository's `.build/release/sparrowc`
when neither $SPARROWC nor PATH names a compiler.
"""
import os

from setuptools import setup
from setuptools.command.build_py import build_py

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class BuildWithOrigin(build_py):
    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "sparrow", "_origin.py")
        with open(target, "w") as f:
            f.write('"""Written by setup.py: the repository this package was installed from."""\n')
            f.write(f"REPOSITORY = {REPOSITORY!r}\n")


setup(cmdclass={"build_py": BuildWithOrigin})
