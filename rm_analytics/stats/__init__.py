"""Numerical kernels: numpy and scipy only, no domain objects, no I/O.

Intervals for proportions and means (:mod:`.intervals`); the survival, regression, power,
meta-analysis and sequential kernels live beside them.
"""
