"""Design matrices from a DataFrame of covariates: dummy-coded categories and the
linearly independent columns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def design_matrix(frame: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Numeric design matrix of covariates: numbers as they are, other columns as dummies
    (first level dropped), constant columns removed.

    Examples
    --------
    Numbers stay, categories become dummies (first level dropped), constant columns go:

    >>> import pandas as pd
    >>> from rm_analytics.stats.design import design_matrix
    >>> frame = pd.DataFrame({"age": [34, 51, 28, 45], "level": ["junior", "senior", "junior", "mid"],
    ...                       "remote": [True, False, True, True], "site": ["HQ"] * 4})
    >>> design_matrix(frame, ["age", "level", "remote", "site"])
        age  level=mid  level=senior  remote
    0  34.0        0.0           0.0     1.0
    1  51.0        0.0           1.0     0.0
    2  28.0        0.0           0.0     1.0
    3  45.0        1.0           0.0     1.0
    """
    parts = []
    for c in covariates:
        s = frame[c]
        if pd.api.types.is_bool_dtype(s) or (
            pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype)
        ):
            parts.append(s.astype(float).rename(c))
        else:
            cat = s.astype("category")
            cat = cat.cat.remove_unused_categories()
            d = pd.get_dummies(cat, prefix=c, prefix_sep="=", drop_first=True, dtype=float)
            parts.append(d)
    if not parts:
        return pd.DataFrame(index=frame.index)
    X = pd.concat(parts, axis=1)
    return X.loc[:, X.nunique() > 1]


def independent_columns(X: np.ndarray, names: list[str]) -> list[int]:
    """Indices of a maximal set of linearly independent columns (first ones kept).

    Examples
    --------
    The third column is the sum of the first two, so it is dropped:

    >>> import numpy as np
    >>> from rm_analytics.stats.design import independent_columns
    >>> X = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 2.0], [0.0, 0.0, 0.0]])
    >>> independent_columns(X, ["a", "b", "a_plus_b"])
    [0, 1]
    """
    keep: list[int] = []
    for j in range(X.shape[1]):
        cand = keep + [j]
        if np.linalg.matrix_rank(X[:, cand] - X[:, cand].mean(axis=0)) == len(cand):
            keep.append(j)
    return keep
