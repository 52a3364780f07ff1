"""Kept only for ``benchmarks/ctgov_batch.py``, which imports ``synthetic_mutation_page`` from here:
the test helpers live in ``tests.support`` (this one in ``tests.support.trials``). Tests must not
import this module; remove it once the benchmark imports from ``tests.support.trials``."""

from tests.support.trials import synthetic_mutation_page

__all__ = ["synthetic_mutation_page"]
