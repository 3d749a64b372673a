"""Helpers shared by the tests and the benchmarks: sketches, local servers and stand-ins.

Import them as ``from tests.support.sketches import sketch``; never ``from conftest import``.
"""
