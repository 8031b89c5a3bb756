"""Normal-normal posterior of an effect and the probability that it lies on the good side.

The likelihood of an effect ``theta`` (a log hazard ratio, a difference in points) is taken as
normal, ``estimate ~ N(theta, se^2)`` (the usual large-sample approximation of the estimate's
sampling distribution). With a normal prior ``theta ~ N(m0, s0^2)`` the posterior is normal
(conjugacy) with

    precision  1 / s1^2 = 1 / s0^2 + 1 / se^2
    mean       m1 = s1^2 (m0 / s0^2 + estimate / se^2)

and ``P(theta < 0 | data) = Phi(-m1 / s1)``. A flat prior (``s0 = inf``) gives
``m1 = estimate``, ``s1 = se``: the probability is then one minus the one-sided p-value.

The **sceptical prior** (Spiegelhalter, Freedman & Parmar 1994) is centred on no effect
(``m0 = 0``) with a spread chosen so that an effect at least as large as ``effect`` has only
``tail`` prior probability: ``s0 = |effect| / z_{1 - tail}``.
"""

from __future__ import annotations

import math


def sceptical_prior_sd(effect: float, tail: float = 0.05) -> float:
    """SD of a normal prior centred at 0 giving ``P(theta beyond effect) = tail``.

    Examples
    --------
    A prior that gives a hazard ratio of 0.7 or better only a 5% chance:

    >>> import math
    >>> from rm_analytics.stats.bayes import sceptical_prior_sd
    >>> round(sceptical_prior_sd(math.log(0.7)), 4)
    0.2168
    """
    from scipy import stats

    if effect == 0 or not math.isfinite(effect):
        raise ValueError(f"effect must be finite and non-zero, not {effect}")
    if not 0 < tail < 0.5:
        raise ValueError(f"tail must be in (0, 0.5), not {tail}")
    return float(abs(effect) / stats.norm.ppf(1 - tail))


def normal_posterior(
    estimate: float, se: float, prior_mean: float = 0.0, prior_sd: float = math.inf
) -> tuple[float, float]:
    """Posterior mean and SD of a normal likelihood times a normal prior (closed form).

    Examples
    --------
    An estimated log hazard ratio of -0.4 (SE 0.2), with a flat and with a sceptical prior:

    >>> from rm_analytics.stats.bayes import normal_posterior
    >>> normal_posterior(-0.4, 0.2)
    (-0.4, 0.2)
    >>> mean, sd = normal_posterior(-0.4, 0.2, prior_mean=0.0, prior_sd=0.2)
    >>> print(f"{mean:.3f} {sd:.4f}")
    -0.200 0.1414
    """
    if not (math.isfinite(estimate) and math.isfinite(se) and se > 0):
        raise ValueError(f"need a finite estimate and a standard error > 0, got {estimate}, {se}")
    if not prior_sd > 0:
        raise ValueError(f"prior_sd must be > 0, not {prior_sd}")
    if math.isinf(prior_sd):
        return float(estimate), float(se)
    prec = 1 / prior_sd**2 + 1 / se**2
    mean = (prior_mean / prior_sd**2 + estimate / se**2) / prec
    return float(mean), float(math.sqrt(1 / prec))


def probability_below(
    estimate: float,
    se: float,
    threshold: float = 0.0,
    prior_mean: float = 0.0,
    prior_sd: float = math.inf,
) -> float:
    """Posterior probability that the effect is below ``threshold``.

    Examples
    --------
    With a flat prior this is one minus the one-sided p-value (z = -2); a sceptical prior pulls
    it towards 0.5:

    >>> from rm_analytics.stats.bayes import probability_below
    >>> print(f"{probability_below(-0.4, 0.2):.4f}")
    0.9772
    >>> print(f"{probability_below(-0.4, 0.2, prior_sd=0.2):.4f}")
    0.9214
    """
    from scipy import stats

    m, s = normal_posterior(estimate, se, prior_mean, prior_sd)
    return float(stats.norm.cdf((threshold - m) / s))
