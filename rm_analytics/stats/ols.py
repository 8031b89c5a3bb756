"""Least squares with cluster-robust inference (numpy/scipy only): absorbed fixed effects,
CR0/CR1/CR2 sandwich variances, Satterthwaite (Bell-McCaffrey / Pustejovsky-Tipton) degrees of
freedom and the HTZ joint test as R's clubSandwich, and the wild cluster bootstrap
(MacKinnon & Webb 2017). The difference-in-differences of :mod:`rm_analytics.metrics.engagement`
is built on :func:`fit_ols`; ``docs/methods.md`` lists the references checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from ..errors import InsufficientDataError
from ..results import Note
from . import DEFAULT_SEED

#: Below this many clusters the cluster-robust t(G-1) reference is used by ``small_sample="auto"``
#: (at or above it, the normal approximation). 42 follows Angrist & Pischke's rule of thumb.
FEW_CLUSTERS = 42
#: Below this many clusters Rademacher weights give too few distinct bootstrap draws (2^G), so
#: ``wild_weights="auto"`` switches to Webb's six-point weights.
WEBB_BELOW = 12
#: Fewest clusters with treated observations, and with control observations, for any
#: cluster-robust standard error, interval or p-value of the treatment terms (module doc).
MIN_CLUSTERS_PER_ARM = 2
#: Eigenvalues of I - H_gg at or below this are treated as 0 (clubSandwich's tolerance).
_CR2_TOL = 1e-12

_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@dataclass
class OLSFit:
    """Result of :func:`fit_ols` (internal).

    Examples
    --------
    Six teams of three people, teams 0-2 mentored (``treated``). As R's clubSandwich on ``lm(y ~
    treated + tenure)`` with ``vcov = "CR2"`` and ``cluster = team``: SEs 0.2514, 0.2004, 0.0384
    and Satterthwaite df 3.64, 3.97, 3.82:

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import six_teams
    >>> y, tenure, team = six_teams()
    >>> X = np.column_stack([np.ones(18), team < 3, tenure])
    >>> from rm_analytics.stats.ols import fit_ols
    >>> fit = fit_ols(y, X, ["const", "treated", "tenure"], cluster=team)
    >>> fit.cov_type, fit.n, fit.n_clusters
    ('cr2', 18, 6)
    >>> cols = fit.columns()
    >>> print(np.round(cols["se"], 4), np.round(fit.dfs, 2))
    [0.2514 0.2004 0.0384] [3.64 3.97 3.82]
    """

    names: list[str]
    coef: np.ndarray
    vcov: np.ndarray
    df: float | None
    """Degrees of freedom of the t reference; None for the normal approximation."""
    n: int
    n_clusters: int | None
    n_absorbed: int
    cov_type: str
    inference: str
    """'t', 'normal' or 'wild'."""
    method: str
    alpha: float
    notes: list[str] = field(default_factory=list)
    boot: dict[str, dict[str, float]] = field(default_factory=dict)
    #: per-coefficient degrees of freedom (CR2: Satterthwaite), overriding ``df``
    dfs: np.ndarray | None = None
    #: terms without inference (too few treated or control clusters)
    no_inference: tuple[str, ...] = ()
    #: clusters with treated observations, with control observations (None: not counted)
    n_treated_clusters: int | None = None
    n_control_clusters: int | None = None
    #: CR2 pieces for joint tests: adjusted design A_g X_g (rows), X, cluster codes, bread
    cr2_: dict | None = None

    def se(self, name: str) -> float:
        i = self.names.index(name)
        v = self.vcov[i, i]
        if name in self.no_inference:
            return float("nan")
        return float(np.sqrt(v)) if np.isfinite(v) and v > 0 else float("nan")

    def df_of(self, name: str) -> float | None:
        """Degrees of freedom of the t reference of one coefficient (None: normal)."""
        if self.dfs is not None:
            return float(self.dfs[self.names.index(name)])
        return self.df

    def term(self, name: str) -> dict[str, float]:
        """estimate, se, ci_low, ci_high, p_value, statistic for one coefficient."""
        b = float(self.coef[self.names.index(name)])
        se = self.se(name)
        if name in self.boot:
            return {"estimate": b, "se": se, **self.boot[name]}
        df = self.df_of(name)
        if not np.isfinite(se) or (df is not None and not df > 0):
            nan = float("nan")
            return {
                "estimate": b,
                "se": se,
                "ci_low": nan,
                "ci_high": nan,
                "p_value": nan,
                "statistic": nan,
            }
        t = b / se
        if df is None:
            q = stats.norm.ppf(1 - self.alpha / 2)
            p = 2 * stats.norm.sf(abs(t))
        else:
            q = stats.t.ppf(1 - self.alpha / 2, df)
            p = 2 * stats.t.sf(abs(t), df)
        return {
            "estimate": b,
            "se": se,
            "ci_low": b - q * se,
            "ci_high": b + q * se,
            "p_value": float(p),
            "statistic": float(t),
        }

    def columns(self) -> dict[str, np.ndarray | list]:
        """:meth:`term` for every coefficient as columns (``term``, ``estimate``, ``se``,
        ``ci_low``, ``ci_high``, ``p_value``, ``statistic``): the quantile computed once."""
        b = np.asarray(self.coef, dtype=float)
        v = np.diag(self.vcov).astype(float)
        ok = np.isfinite(v) & (v > 0)
        ok &= ~np.isin(np.asarray(self.names, dtype=object), list(self.no_inference))
        if self.dfs is not None:
            ok &= np.isfinite(self.dfs) & (self.dfs > 0)
        se = np.where(ok, np.sqrt(np.where(ok, v, 1.0)), np.nan)
        if self.dfs is not None:
            dist = stats.t(np.where(ok, self.dfs, 1.0))
        else:
            dist = stats.norm() if self.df is None else stats.t(self.df)
        q = dist.ppf(1 - self.alpha / 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = b / se
        p = 2 * dist.sf(np.abs(t))
        cols = {
            "term": list(self.names),
            "estimate": b,
            "se": se,
            "ci_low": b - q * se,
            "ci_high": b + q * se,
            "p_value": p,
            "statistic": t,
        }
        cols = {k: (v if k == "term" else np.array(v, dtype=float)) for k, v in cols.items()}
        # bootstrap terms, and terms without a finite SE, exactly as term() gives them
        for i, name in enumerate(self.names):
            if name in self.boot or not ok[i]:
                one = self.term(name)
                for k in ("estimate", "se", "ci_low", "ci_high", "p_value", "statistic"):
                    cols[k][i] = one[k]
        return cols

    def wald(self, names: list[str]) -> dict[str, float]:
        """Joint Wald test that the named coefficients are all zero (F form with t's df; with
        CR2, the HTZ test of Pustejovsky & Tipton 2018, as clubSandwich's ``Wald_test``)."""
        idx = [self.names.index(n) for n in names]
        b = self.coef[idx]
        v = self.vcov[np.ix_(idx, idx)]
        q = len(idx)
        if any(n in self.no_inference for n in names):
            nan = float("nan")
            return {"statistic": nan, "df1": q, "df2": nan, "p_value": nan}
        if self.cr2_ is not None:
            return htz_test(self, idx)
        try:
            w = float(b @ np.linalg.solve(v, b))
        except np.linalg.LinAlgError:
            return {
                "statistic": float("nan"),
                "df1": q,
                "df2": float("nan"),
                "p_value": float("nan"),
            }
        if self.df is None:
            return {
                "statistic": w / q,
                "df1": q,
                "df2": float("inf"),
                "p_value": float(stats.chi2.sf(w, q)),
            }
        df2 = float(self.df)
        return {
            "statistic": w / q,
            "df1": q,
            "df2": df2,
            "p_value": float(stats.f.sf(w / q, q, df2)),
        }


def factorize(values) -> tuple[np.ndarray, int]:
    """Integer codes of ``values`` in order of first appearance, and the number of groups.

    Examples
    --------
    >>> from rm_analytics.stats.ols import factorize
    >>> codes, n_groups = factorize(["team b", "team a", "team b", "team c"])
    >>> print(codes, n_groups)
    [0 1 0 2] 3
    """
    a = np.asarray(values)
    if a.dtype == object:
        seen: dict = {}
        codes = np.fromiter((seen.setdefault(v, len(seen)) for v in a.tolist()), np.int64, a.size)
        return codes, len(seen)
    uniq, first, inverse = np.unique(a, return_index=True, return_inverse=True)
    rank = np.empty(uniq.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(uniq.size)
    return rank[inverse.ravel()], int(uniq.size)


def group_sums(codes: np.ndarray, a: np.ndarray, n_groups: int) -> np.ndarray:
    """Column sums of ``a`` within groups (rows added in order, as ``np.add.at``; faster).

    Examples
    --------
    >>> import numpy as np
    >>> from rm_analytics.stats.ols import group_sums
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    >>> print(group_sums(np.array([0, 1, 0, 2]), a, 3))
    [[6. 8.]
     [3. 4.]
     [7. 8.]]
    """
    out = np.zeros((n_groups, a.shape[1]))
    for j in range(a.shape[1]):  # columns, not rows
        out[:, j] = np.bincount(codes, weights=a[:, j], minlength=n_groups)
    return out


def demean(a: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Deviations of ``a`` (a vector, or each column of a matrix) from their group means.

    Examples
    --------
    Within-group deviations (what absorbing unit fixed effects does to each column):

    >>> import numpy as np
    >>> from rm_analytics.stats.ols import demean
    >>> print(demean(np.array([1.0, 3.0, 5.0, 10.0, 20.0]), np.array([0, 0, 0, 1, 1]), 2))
    [-2.  0.  2. -5.  5.]
    """

    counts = np.bincount(codes, minlength=n_groups).astype(float)
    if a.ndim == 1:
        means = np.bincount(codes, weights=a, minlength=n_groups) / counts
        return a - means[codes]
    out = np.empty_like(a, dtype=float)
    for j in range(a.shape[1]):  # columns, not rows
        means = np.bincount(codes, weights=a[:, j], minlength=n_groups) / counts
        out[:, j] = a[:, j] - means[codes]
    return out


def cr2_adjusted(X: np.ndarray, M: np.ndarray, ccodes: np.ndarray, G: int) -> np.ndarray:
    """``A_g X_g`` stacked by rows, ``A_g = (I - X_g M X_g')^(-1/2)`` (pseudo-inverse square
    root: eigenvalues of ``I - H_gg`` at or below 1e-12 give 0, as clubSandwich's
    ``matrix_power``).

    With absorbed unit effects nested in the clusters, ``X`` is the within (demeaned) design;
    the full model's ``I - H_gg`` then has eigenvalue 0 on the units' indicator vectors and
    equals ``I - X_g M X_g'`` on their orthogonal complement, where both the within design's
    columns and the residuals lie, so the product is the full model's. Clusters of up to 64
    rows are done in batches of equal size (eigendecomposition of the small matrix); larger
    ones through the rank-k structure of ``H_gg`` (thin SVD of ``X_g L``, ``M = L L'``).

    Examples
    --------
    Six teams of three people, teams 0-2 mentored (``treated``). The CR2 standard errors from
    the adjusted design, as R's clubSandwich on ``lm(y ~ treated + tenure)`` with ``vcov =
    "CR2"`` and ``cluster = team``: 0.2514, 0.2004, 0.0384:

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import six_teams
    >>> y, tenure, team = six_teams()
    >>> X = np.column_stack([np.ones(18), team < 3, tenure])
    >>> from rm_analytics.stats.ols import cr2_adjusted, factorize, group_sums
    >>> codes, G = factorize(team)
    >>> M = np.linalg.inv(X.T @ X)
    >>> AX = cr2_adjusted(X, M, codes, G)
    >>> u = y - X @ (M @ X.T @ y)
    >>> scores = group_sums(codes, AX * u[:, None], G)
    >>> print(np.round(np.sqrt(np.diag(M @ scores.T @ scores @ M)), 4))
    [0.2514 0.2004 0.0384]
    """
    n, k = X.shape
    out = np.empty_like(X)
    order = np.argsort(ccodes, kind="stable")
    sizes = np.bincount(ccodes, minlength=G)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rows_sorted = order  # rows of cluster g: order[starts[g]: starts[g] + sizes[g]]
    for size in np.unique(sizes):
        if size == 0:
            continue
        gs = np.flatnonzero(sizes == size)
        if size <= 64:
            idx = rows_sorted[starts[gs][:, None] + np.arange(size)[None, :]]  # (m, size)
            Xg = X[idx]  # (m, size, k)
            H = np.einsum("gik,kl,gjl->gij", Xg, M, Xg)
            w, V = np.linalg.eigh(np.eye(size)[None] - H)
            f = np.where(w > _CR2_TOL, 1 / np.sqrt(np.where(w > _CR2_TOL, w, 1.0)), 0.0)
            A = np.einsum("gij,gj,gkj->gik", V, f, V)
            out[idx] = np.einsum("gij,gjk->gik", A, Xg)
        else:
            L = np.linalg.cholesky(M)
            for g in gs:
                idx = rows_sorted[starts[g] : starts[g] + size]
                Z = X[idx] @ L
                U, sv, _ = np.linalg.svd(Z, full_matrices=False)
                one_minus = 1 - sv**2
                f = np.where(
                    one_minus > _CR2_TOL, 1 / np.sqrt(np.where(one_minus > 0, one_minus, 1)), 0
                )
                out[idx] = X[idx] + U @ ((f - 1)[:, None] * (U.T @ X[idx]))
    return out


def _cr2_p_parts(AX, X, M, ccodes, G, C):
    """Pieces of the Bell-McCaffrey / Pustejovsky-Tipton moments for contrasts ``C`` (q x k).

    For contrast c and cluster g, ``u_g = A_g X_g M c`` and ``w_g = X_g' u_g``; under the
    working model (independent errors of equal variance) the covariance between the
    estimated variances involves ``P_st[g, h] = 1(g = h) u_sg'u_tg - w_sg' M w_th``.
    Returns ``a[s][t]`` (G: u_sg'u_tg) and ``W[s]`` (G x k)."""
    U = AX @ (M @ C.T)  # n x q
    q = C.shape[0]
    W = [group_sums(ccodes, X * U[:, [s]], G) for s in range(q)]
    a = [
        [np.bincount(ccodes, weights=U[:, s] * U[:, t], minlength=G) for t in range(q)]
        for s in range(q)
    ]
    return a, W


def _p_inner(a, W, M, s1, t1, s2, t2) -> float:
    """Frobenius inner product <P_s1t1, P_s2t2> over clusters (no G x G matrix formed)."""
    d1 = np.einsum("gk,kl,gl->g", W[s1], M, W[t1])  # diagonal of W_s M W_t'
    d2 = np.einsum("gk,kl,gl->g", W[s2], M, W[t2])
    kk = np.trace((W[s1].T @ W[s2]) @ M @ (W[t2].T @ W[t1]) @ M)
    return float(a[s1][t1] @ a[s2][t2] - a[s1][t1] @ d2 - d1 @ a[s2][t2] + kk)


def _p_trace(a, W, M, s, t) -> float:
    return float(a[s][t].sum() - np.einsum("gk,kl,gl->", W[s], M, W[t]))


def satterthwaite_dfs(AX, X, M, ccodes, G) -> np.ndarray:
    """Satterthwaite degrees of freedom of every coefficient (clubSandwich's coef_test).

    Examples
    --------
    Six teams of three people, teams 0-2 mentored (``treated``). As R's clubSandwich
    ``coef_test(..., vcov = "CR2", test = "Satterthwaite")``: df 3.64, 3.97 and 3.82:

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import six_teams
    >>> y, tenure, team = six_teams()
    >>> X = np.column_stack([np.ones(18), team < 3, tenure])
    >>> from rm_analytics.stats.ols import cr2_adjusted, factorize, satterthwaite_dfs
    >>> codes, G = factorize(team)
    >>> M = np.linalg.inv(X.T @ X)
    >>> AX = cr2_adjusted(X, M, codes, G)
    >>> print(np.round(satterthwaite_dfs(AX, X, M, codes, G), 2))
    [3.64 3.97 3.82]
    """
    k = X.shape[1]
    dfs = np.empty(k)
    for j in range(k):
        a, W = _cr2_p_parts(AX, X, M, ccodes, G, np.eye(k)[[j]])
        e = _p_trace(a, W, M, 0, 0)
        v = _p_inner(a, W, M, 0, 0, 0, 0)
        dfs[j] = e**2 / v if v > 0 else float("nan")
    return dfs


def htz_test(fit: OLSFit, idx: list[int]) -> dict[str, float]:
    """HTZ Wald test (Pustejovsky & Tipton 2018) that the coefficients ``idx`` are 0.

    Examples
    --------
    Six teams of three people, teams 0-2 mentored (``treated``). The joint test that ``treated``
    and ``tenure`` are 0, as R's clubSandwich ``Wald_test(..., constraints =
    constrain_zero(2:3), vcov = "CR2", test = "HTZ")``: F 24.4 on 2 and 3.05 df, p 0.0133:

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import six_teams
    >>> y, tenure, team = six_teams()
    >>> X = np.column_stack([np.ones(18), team < 3, tenure])
    >>> from rm_analytics.stats.ols import fit_ols, htz_test
    >>> fit = fit_ols(y, X, ["const", "treated", "tenure"], cluster=team)
    >>> r = htz_test(fit, [1, 2])
    >>> print(f"{r['statistic']:.1f} {r['df1']} {r['df2']:.2f} {r['p_value']:.4f}")
    24.4 2 3.05 0.0133
    """
    pieces = fit.cr2_
    AX, X, M, ccodes, G = (pieces[k] for k in ("AX", "X", "M", "ccodes", "G"))
    q = len(idx)
    C = np.eye(X.shape[1])[idx]
    a, W = _cr2_p_parts(AX, X, M, ccodes, G, C)
    omega = np.array([[_p_trace(a, W, M, s, t) for t in range(q)] for s in range(q)])
    w_eig, V = np.linalg.eigh(omega)
    nsqrt = V @ np.diag(np.where(w_eig > _CR2_TOL, w_eig**-0.5, 0.0)) @ V.T
    a2, W2 = _cr2_p_parts(AX, X, M, ccodes, G, nsqrt @ C)  # rotated contrasts
    var = sum(
        _p_inner(a2, W2, M, s, t, t, s) + _p_inner(a2, W2, M, s, s, t, t)
        for s in range(q)
        for t in range(q)
    )
    nu = q * (q + 1) / var if var > 0 else float("nan")
    b = fit.coef[idx]
    v = fit.vcov[np.ix_(idx, idx)]
    try:
        Q = float(b @ np.linalg.solve(v, b))
    except np.linalg.LinAlgError:
        Q = float("nan")
    df2 = nu - q + 1
    delta = max(df2 / nu, 0.0) if np.isfinite(nu) else float("nan")
    f_stat = delta * Q / q
    p = float(stats.f.sf(f_stat, q, df2)) if df2 > 0 else float("nan")
    return {"statistic": f_stat, "df1": q, "df2": float(df2), "p_value": p}


def fit_ols(
    y: np.ndarray,
    X: np.ndarray,
    names: list[str],
    *,
    absorb=None,
    cluster=None,
    cov_type: str = "auto",
    small_sample: str = "auto",
    alpha: float = 0.05,
    boot_terms: tuple[str, ...] = (),
    n_boot: int = 9999,
    wild_weights: str = "auto",
    seed: int | None = DEFAULT_SEED,
    treated=None,
    treatment_terms: tuple[str, ...] = (),
) -> OLSFit:
    """OLS of ``y`` on ``X`` (no intercept added), optionally absorbing ``absorb`` groups.

    Rows must be complete (no NaN). Singleton groups of ``absorb`` are dropped (they carry no
    within-group information), and counted in the notes.

    ``cov_type="auto"`` is CR2 with Satterthwaite degrees of freedom when there are clusters
    (CR1 when ``small_sample`` asks for one of CR1's references: ``"t"``, ``"none"``,
    ``"wild"``), else HC1. ``treated`` (rows, boolean) counts the clusters with treated and
    with control observations; with fewer than :data:`MIN_CLUSTERS_PER_ARM` of either, the
    ``treatment_terms`` get no standard error, interval or p-value (a note says why).

    Examples
    --------
    Six teams of three people, teams 0-2 mentored (``treated``). As R's clubSandwich on ``lm(y ~
    treated + tenure)`` with ``vcov = "CR2"`` and ``cluster = team`` (``coef_test(..., test =
    "Satterthwaite")``): treated 1.611, SE 0.2004, df 3.97, p 0.00134:

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import six_teams
    >>> y, tenure, team = six_teams()
    >>> X = np.column_stack([np.ones(18), team < 3, tenure])
    >>> from rm_analytics.stats.ols import fit_ols
    >>> fit = fit_ols(y, X, ["const", "treated", "tenure"], cluster=team)
    >>> t = fit.term("treated")
    >>> print(f"{t['estimate']:.3f} {t['se']:.4f} {fit.df_of('treated'):.2f} {t['p_value']:.5f}")
    1.611 0.2004 3.97 0.00134
    >>> print(fit.method)
    OLS, cluster-robust SE (CR2, 6 clusters), t reference with Satterthwaite degrees of freedom
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    notes: list[str] = []
    n_abs = 0
    cl = None if cluster is None else np.asarray(cluster)
    trt = None if treated is None else np.asarray(treated, dtype=bool)
    ucodes = None
    if absorb is not None:
        codes, g = factorize(absorb)
        counts = np.bincount(codes, minlength=g)
        keep = counts[codes] > 1
        if (~keep).any():
            notes.append(
                Note(
                    f"{int((~keep).sum())} observation(s) are the only one of their unit and "
                    "carry no within-unit information; they were left out of the fixed-effects "
                    "fit.",
                    "excluded_rows",
                )
            )
            y, X, codes = y[keep], X[keep], codes[keep]
            cl = None if cl is None else cl[keep]
            trt = None if trt is None else trt[keep]
            codes, g = factorize(codes)
        n_abs = g
        ucodes = codes
        y = demean(y, codes, g)
        X = demean(X, codes, g)
    n, k = X.shape
    if n == 0:
        raise InsufficientDataError("no observations left to fit")
    xtx = X.T @ X
    rank = np.linalg.matrix_rank(xtx)
    if rank < k:
        scale = np.abs(X).sum(axis=0)
        dead = [names[j] for j in range(k) if scale[j] < 1e-12]
        raise InsufficientDataError(
            "the design is rank deficient"
            + (f" (no variation left in: {', '.join(dead)})" if dead else "")
            + "; check that both groups are observed in both periods"
        )
    a = np.linalg.inv(xtx)
    coef = a @ (X.T @ y)
    u = y - X @ coef
    k_total = k + n_abs  # parameters including absorbed effects
    if small_sample not in ("auto", "satterthwaite", "t", "wild", "none"):
        raise ValueError(
            "small_sample must be 'auto', 'satterthwaite', 't', 'wild' or 'none', "
            f"not {small_sample!r}"
        )
    if cov_type == "auto":
        if cl is None:
            cov_type = "hc1"
        else:
            cov_type = "cluster" if small_sample in ("t", "wild", "none") else "cr2"
    if cov_type in ("cluster", "cr1"):
        cov_type = "cluster"
    if cov_type in ("cluster", "cr2") and cl is None:
        raise ValueError(f"cov_type={cov_type!r} needs a cluster (or unit) column")
    if small_sample == "satterthwaite" and cov_type != "cr2":
        raise ValueError("small_sample='satterthwaite' goes with cov_type='cr2'")
    df_resid = n - k_total
    if df_resid <= 0:
        raise InsufficientDataError(f"too few observations ({n}) for {k_total} parameters")
    n_clusters = None
    inference = "t"
    df: float | None = float(df_resid)
    dfs = None
    boot: dict[str, dict[str, float]] = {}
    cr2_pieces = None
    no_inf: tuple[str, ...] = ()
    n_tc = n_cc = None
    if cov_type in ("cluster", "cr2"):
        ccodes, G = factorize(cl)
        n_clusters = G
        if G < 2:
            raise InsufficientDataError("cluster-robust standard errors need at least two clusters")
        few = False
        if trt is not None:
            n_tc = int(np.unique(ccodes[trt]).size)
            n_cc = int(np.unique(ccodes[~trt]).size)
            few = min(n_tc, n_cc) < MIN_CLUSTERS_PER_ARM
            notes.append(
                Note(
                    f"{G} clusters: {n_tc} with treated observations, {n_cc} with control "
                    "observations"
                    + (f" ({n_tc + n_cc - G} with both)." if n_tc + n_cc > G else "."),
                    "method",
                )
            )
            if few:
                no_inf = tuple(treatment_terms)
                notes.append(
                    Note(
                        "No standard error, interval or p-value for the effect: it needs at "
                        f"least {MIN_CLUSTERS_PER_ARM} clusters with treated and "
                        f"{MIN_CLUSTERS_PER_ARM} with control observations (here {n_tc} and "
                        f"{n_cc}). With a single treated (or control) cluster its residuals "
                        "carry no information on the effect's variance, so every "
                        "cluster-robust method (CR2, CR1, the wild bootstrap) would report a "
                        "precision the data do not have.",
                        "few_clusters",
                    )
                )
        if cov_type == "cr2" and ucodes is not None:
            # absorbed unit effects must be nested in the clusters
            first = np.full(int(ucodes.max()) + 1, -1)
            first[ucodes] = ccodes
            if np.any(first[ucodes] != ccodes):
                if small_sample == "satterthwaite":
                    raise ValueError(
                        "CR2 with absorbed unit effects needs each unit within one cluster"
                    )
                notes.append(
                    Note(
                        "Units are not nested in clusters: CR1 is used instead of CR2 (the "
                        "absorbed CR2 adjustment needs each unit within one cluster).",
                        "method",
                    )
                )
                cov_type = "cluster"
    if cov_type == "classical":
        s2 = float(u @ u) / df_resid
        vcov = s2 * a
        method = "OLS, classical (homoskedastic) SE"
    elif cov_type == "hc1":
        meat = (X * (u**2)[:, None]).T @ X
        vcov = a @ meat @ a * (n / df_resid)
        method = "OLS, heteroskedasticity-robust SE (HC1)"
    elif cov_type == "cr2":
        AX = cr2_adjusted(X, a, ccodes, G)
        scores = group_sums(ccodes, AX * u[:, None], G)  # X_g' A_g e_g (A_g symmetric)
        vcov = a @ (scores.T @ scores) @ a
        dfs = satterthwaite_dfs(AX, X, a, ccodes, G)
        df = None
        cr2_pieces = {"AX": AX, "X": X, "M": a, "ccodes": ccodes, "G": G}
        method = (
            f"OLS, cluster-robust SE (CR2, {G} clusters), t reference with Satterthwaite "
            "degrees of freedom"
        )
    elif cov_type == "cluster":
        scores = group_sums(ccodes, X * u[:, None], G)
        k_c = k + (1 if absorb is not None else 0)
        c = G / (G - 1) * (n - 1) / (n - k_c)
        vcov = c * (a @ (scores.T @ scores) @ a)
        method = f"OLS, cluster-robust SE (CR1, {G} clusters)"
        df = float(G - 1)
        if small_sample == "none" or (small_sample == "auto" and G >= FEW_CLUSTERS):
            df, inference = None, "normal"
            method += ", normal reference"
        elif small_sample in ("auto", "t"):
            method += f", t({G - 1}) reference"
            if G < FEW_CLUSTERS:
                notes.append(
                    Note(
                        f"Only {G} clusters: CR1 cluster-robust standard errors are unreliable "
                        f"with fewer than {FEW_CLUSTERS}; inference uses a t distribution with "
                        f"G - 1 = {G - 1} degrees of freedom. The default, CR2 with "
                        "Satterthwaite degrees of freedom, is safer with few (treated) "
                        "clusters.",
                        "few_clusters",
                    )
                )
        else:
            inference = "wild"
            wts = wild_weights
            if wts == "auto":
                wts = "webb" if G < WEBB_BELOW else "rademacher"
            if wts not in ("webb", "rademacher"):
                raise ValueError(
                    f"wild_weights must be 'auto', 'webb' or 'rademacher', not {wts!r}"
                )
            method += f", wild cluster bootstrap-t ({wts} weights, {n_boot} draws, seed {seed})"
            for term in boot_terms or tuple(names):
                if term in no_inf:
                    continue  # degenerate: no bootstrap computed
                boot[term] = wild_bootstrap(
                    X,
                    u,
                    a,
                    scores,
                    ccodes,
                    G,
                    c,
                    names.index(term),
                    coef,
                    vcov,
                    alpha,
                    n_boot,
                    wts,
                    seed,
                )
            notes.append(
                Note(
                    f"Inference uses an unrestricted wild cluster bootstrap-t over {G} "
                    f"clusters ({wts} weights, {n_boot} draws, seed {seed}); the interval is "
                    "the symmetric percentile-t interval. With few treated clusters it "
                    "over-rejects (MacKinnon & Webb 2017); CR2 with Satterthwaite degrees of "
                    "freedom does not.",
                    "method",
                )
            )
    else:
        raise ValueError(
            f"cov_type must be 'classical', 'hc1', 'cluster' or 'cr2', not {cov_type!r}"
        )
    if cov_type not in ("cluster", "cr2"):
        if small_sample == "wild":
            raise ValueError("small_sample='wild' needs clusters: give unit or cluster")
        if small_sample == "none":
            df, inference = None, "normal"
            method += ", normal reference"
        else:
            method += f", t({df_resid}) reference"
    if absorb is not None:
        method = method.replace("OLS", f"OLS with {n_abs} absorbed unit effects", 1)
    return OLSFit(
        names=list(names),
        coef=coef,
        vcov=vcov,
        df=df,
        n=n,
        n_clusters=n_clusters,
        n_absorbed=n_abs,
        cov_type=cov_type,
        inference=inference,
        method=method,
        alpha=alpha,
        notes=notes,
        boot=boot,
        dfs=dfs,
        no_inference=no_inf,
        n_treated_clusters=n_tc,
        n_control_clusters=n_cc,
        cr2_=cr2_pieces,
    )


def wild_bootstrap(X, u, a, scores, ccodes, G, c, j, coef, vcov, alpha, n_boot, weights, seed):
    """Unrestricted wild cluster bootstrap-t for coefficient ``j`` (vectorised).

    Examples
    --------
    Six teams of three people, teams 0-2 mentored (``treated``). The wild cluster bootstrap-t of
    ``treated`` (Webb weights, 999 draws) from the CR1 pieces, as ``fit_ols(...,
    small_sample="wild")`` computes them:

    >>> import numpy as np
    >>> from rm_analytics.stats.datasets import six_teams
    >>> y, tenure, team = six_teams()
    >>> X = np.column_stack([np.ones(18), team < 3, tenure])
    >>> from rm_analytics.stats.ols import factorize, group_sums, wild_bootstrap
    >>> codes, G = factorize(team)
    >>> a = np.linalg.inv(X.T @ X)
    >>> coef = a @ X.T @ y
    >>> u = y - X @ coef
    >>> scores = group_sums(codes, X * u[:, None], G)
    >>> c = G / (G - 1) * (18 - 1) / (18 - 3)
    >>> vcov = c * a @ scores.T @ scores @ a
    >>> r = wild_bootstrap(X, u, a, scores, codes, G, c, 1, coef, vcov, 0.05, 999, "webb", 1)
    >>> print({k: round(v, 3) for k, v in r.items()})
    {'ci_low': 1.088, 'ci_high': 2.134, 'p_value': 0.006, 'statistic': 8.479}
    """
    rng = np.random.default_rng(seed)
    k = X.shape[1]
    aj = a[j]
    s = scores @ aj  # (G,) cluster score of coefficient j
    # H_g a_j, where H_g = sum_{i in g} x_i x_i'
    m = np.zeros((G, k))
    np.add.at(m, ccodes, X * (X @ aj)[:, None])
    se0 = float(np.sqrt(vcov[j, j]))
    b0 = float(coef[j])
    t0 = b0 / se0 if se0 > 0 else float("nan")
    tstar = np.empty(n_boot)
    chunk = max(1, int(4_000_000 // max(G, 1)))
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        if weights == "rademacher":
            w = rng.choice(np.array([-1.0, 1.0]), size=(b, G))
        else:
            w = rng.choice(_WEBB, size=(b, G))
        delta = (w @ scores) @ a.T  # (b, k): beta* - beta_hat
        sc = w * s[None, :] - delta @ m.T  # (b, G)
        var = c * (sc**2).sum(axis=1)
        # a draw whose clusters' scores all vanish has no t statistic: leave it out
        ok = var > 1e-14 * max(float(np.max(var, initial=0.0)), 1e-300)
        t_b = np.full(b, np.nan)
        t_b[ok] = delta[ok, j] / np.sqrt(var[ok])
        tstar[done : done + b] = t_b
        done += b
    abs_t = np.abs(tstar[np.isfinite(tstar)])
    p = float(np.mean(abs_t >= abs(t0))) if np.isfinite(t0) else float("nan")
    q = float(np.quantile(abs_t, 1 - alpha)) if abs_t.size else float("nan")
    return {"ci_low": b0 - q * se0, "ci_high": b0 + q * se0, "p_value": p, "statistic": t0}
