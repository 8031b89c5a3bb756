"""Numerical kernels: numpy and scipy only, no domain objects, no I/O.

Intervals for proportions and means (:mod:`.intervals`); the survival, regression, power,
meta-analysis and sequential kernels live beside them.
"""

#: The default seed of every resampling (the RMST permutation test, the wild cluster bootstrap,
#: the report's parameter ``seed``): the same data give the same figures run after run.
DEFAULT_SEED = 20250113
