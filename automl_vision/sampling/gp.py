"""A small Gaussian-process regressor for Bayesian optimization, on numpy and scipy only.

Model: zero mean on standardized targets, Matérn-5/2 kernel with one lengthscale per input
column (ARD), a signal variance and a noise variance. Hyperparameters are the maximum a
posteriori estimate under log-normal priors, found by L-BFGS-B with analytic gradients from
one fixed starting point (deterministic: the same data gives the same model).

Inputs are expected in the unit cube. The lengthscale prior (median 0.7, log-sd 0.75) was
chosen on the sampler benchmark: long lengthscales (e.g. a dimension-scaled prior with
median 13 in 10-D) made expected improvement chase the corners of the cube on Levy-10, and
shorter ones were no better elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize, special

__all__ = [
    "GPPriors",
    "GaussianProcess",
    "log_expected_improvement",
    "negative_log_posterior",
]

_SQRT5 = math.sqrt(5.0)
# relative variance of a value the model is told exactly (keeps the Cholesky well-posed)
_EXACT_NOISE = 1e-6


@dataclass(frozen=True)
class GPPriors:
    """Log-normal priors (mean and standard deviation of the log) and box bounds."""

    lengthscale_loc: float = -0.35
    lengthscale_scale: float = 0.75
    signal_loc: float = 0.0
    signal_scale: float = 1.0
    noise_loc: float = math.log(1e-4)
    noise_scale: float = 2.0
    min_noise: float = 1e-6
    max_noise: float = 1.0
    min_lengthscale: float = 1e-2
    max_lengthscale: float = 1e2


def _matern(r: np.ndarray, signal: float) -> tuple[np.ndarray, np.ndarray]:
    """Kernel values and ``-(5/3) signal (1 + sqrt5 r) exp(-sqrt5 r)`` (for gradients)."""
    e = np.exp(-_SQRT5 * r)
    k = signal * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r * r) * e
    b = -(5.0 / 3.0) * signal * (1.0 + _SQRT5 * r) * e
    return k, b


def _sq_distances(a: np.ndarray, b: np.ndarray, inv_ls2: np.ndarray) -> np.ndarray:
    """Squared scaled distances between the rows of ``a`` and ``b``."""
    sa, sb = a * np.sqrt(inv_ls2), b * np.sqrt(inv_ls2)
    sq = (sa * sa).sum(1)[:, None] + (sb * sb).sum(1)[None, :] - 2.0 * (sa @ sb.T)
    return np.maximum(sq, 0.0)


def _inverse_from_cholesky(chol: np.ndarray) -> np.ndarray:
    inv, info = linalg.lapack.dpotri(chol, lower=1)
    if info != 0:
        raise linalg.LinAlgError("could not invert the kernel matrix")
    lower = np.tril(inv)
    return lower + np.tril(inv, -1).T


def _cholesky(matrix: np.ndarray) -> np.ndarray:
    jitter = 0.0
    for _ in range(6):
        try:
            return linalg.cholesky(
                matrix + jitter * np.eye(len(matrix)), lower=True, check_finite=False
            )
        except linalg.LinAlgError:
            jitter = 1e-8 if jitter == 0.0 else jitter * 100.0
    raise linalg.LinAlgError("kernel matrix is not positive definite even with jitter")


def _prior_terms(priors: GPPriors, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means and standard deviations of the log-normal priors, and bounds, of
    ``theta = [log lengthscales..., log signal, log noise]``."""
    locs = np.concatenate(
        [np.full(dim, priors.lengthscale_loc), [priors.signal_loc, priors.noise_loc]]
    )
    scales = np.concatenate(
        [np.full(dim, priors.lengthscale_scale), [priors.signal_scale, priors.noise_scale]]
    )
    bounds = np.array(
        [(math.log(priors.min_lengthscale), math.log(priors.max_lengthscale))] * dim
        + [
            (math.log(1e-2), math.log(1e2)),
            (math.log(priors.min_noise), math.log(priors.max_noise)),
        ]
    )
    return locs, scales, bounds


def negative_log_posterior(
    theta: np.ndarray, x: np.ndarray, y: np.ndarray, priors: GPPriors
) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood plus negative log prior (up to a constant), and its
    gradient, at ``theta = [log lengthscales..., log signal, log noise]``."""
    n, dim = x.shape
    locs, scales, _ = _prior_terms(priors, dim)
    inv_ls2 = np.exp(-2.0 * theta[:dim])
    signal, noise = math.exp(theta[dim]), math.exp(theta[dim + 1])
    k, b = _matern(np.sqrt(_sq_distances(x, x, inv_ls2)), signal)
    k_noisy = k + noise * np.eye(n)
    try:
        chol = _cholesky(k_noisy)
    except linalg.LinAlgError:
        return 1e10, np.zeros_like(theta)
    alpha = linalg.cho_solve((chol, True), y, check_finite=False)
    w = np.outer(alpha, alpha) - _inverse_from_cholesky(chol)
    value = 0.5 * y @ alpha + np.log(np.diag(chol)).sum() + 0.5 * n * math.log(2 * math.pi)
    grad = np.empty_like(theta)
    # d k / d log(l_d) = -b (x_d - x'_d)^2 / l_d^2; sum it against w without an (n, n, dim)
    # tensor: sum_jk m_jk (x_jd - x_kd)^2 = 2 (sum_j m_j. x_jd^2 - x_d' m x_d), m symmetric
    m = w * b
    pair_sums = 2.0 * (m.sum(1) @ (x * x) - ((m @ x) * x).sum(0))
    grad[:dim] = 0.5 * pair_sums * inv_ls2
    grad[dim] = -0.5 * np.sum(w * k)
    grad[dim + 1] = -0.5 * noise * np.trace(w)
    z = (theta - locs) / scales
    return float(value + 0.5 * z @ z), grad + z / scales


class GaussianProcess:
    """Posterior of a GP with fixed hyperparameters (build one with ``fit``)."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        lengthscales: np.ndarray,
        signal: float,
        noise: float,
        exact: int = 0,
    ) -> None:
        """``exact``: how many of the last rows are noise-free (believed values, not data)."""
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.lengthscales = np.asarray(lengthscales, dtype=float)
        self.signal = float(signal)
        self.noise = float(noise)
        self.exact = int(exact)
        r = self._distance(self.x)
        k, _ = _matern(r, self.signal)
        diagonal = np.full(len(self.x), self.noise)
        if self.exact:
            diagonal[-self.exact :] = _EXACT_NOISE * self.signal
        self._chol = _cholesky(k + np.diag(diagonal))
        self._alpha = linalg.cho_solve((self._chol, True), self.y, check_finite=False)

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, priors: GPPriors | None = None) -> GaussianProcess:
        """MAP hyperparameters for ``(x, y)`` (``y`` should be standardized)."""
        priors = priors or GPPriors()
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        dim = x.shape[1]
        locs, _, bounds = _prior_terms(priors, dim)
        theta0 = locs.copy()
        theta0[-1] = math.log(1e-3)  # start from a small noise
        theta0 = np.clip(theta0, bounds[:, 0], bounds[:, 1])
        result = optimize.minimize(
            negative_log_posterior,
            theta0,
            args=(x, y, priors),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 200, "ftol": 1e-7, "gtol": 1e-4},
        )
        theta = result.x
        return cls(x, y, np.exp(theta[:dim]), math.exp(theta[dim]), math.exp(theta[dim + 1]))

    def condition_on(self, x: np.ndarray, y: np.ndarray) -> GaussianProcess:
        """The same model, also knowing the function values ``y`` at ``x`` exactly (e.g. the
        believed values of pending trials): the posterior variance there collapses."""
        if len(x) == 0:
            return self
        return GaussianProcess(
            np.vstack([self.x, x]),
            np.concatenate([self.y, y]),
            self.lengthscales,
            self.signal,
            self.noise,
            exact=self.exact + len(x),
        )

    # -- prediction ----------------------------------------------------------------------------
    def _distance(self, a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        b = a if b is None else b
        return np.sqrt(_sq_distances(a, b, 1.0 / self.lengthscales**2))

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of the latent function at the rows of ``x``."""
        k, _ = _matern(self._distance(np.asarray(x, dtype=float), self.x), self.signal)
        mean = k @ self._alpha
        v = linalg.solve_triangular(self._chol, k.T, lower=True, check_finite=False)
        var = np.maximum(self.signal - (v * v).sum(0), 1e-12)
        return mean, var

    def predict_with_gradient(
        self, x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, variance and their gradients (rows of ``x`` x columns) at the rows of ``x``."""
        x = np.asarray(x, dtype=float)
        inv_ls2 = 1.0 / self.lengthscales**2
        k, b = _matern(np.sqrt(_sq_distances(x, self.x, inv_ls2)), self.signal)
        mean = k @ self._alpha
        w = linalg.cho_solve((self._chol, True), k.T, check_finite=False)  # K^-1 k, (n, m)
        var_raw = self.signal - (k * w.T).sum(1)
        var = np.maximum(var_raw, 1e-12)
        # sum_n c_mn (x_m - x_n) = x_m * sum_n c_mn - c @ X, for c = b * alpha and b * w
        c_mean = b * self._alpha[None, :]
        d_mean = (x * c_mean.sum(1)[:, None] - c_mean @ self.x) * inv_ls2
        c_var = b * w.T
        d_var = -2.0 * (x * c_var.sum(1)[:, None] - c_var @ self.x) * inv_ls2
        d_var[var_raw <= 1e-12] = 0.0
        return mean, var, d_mean, d_var


_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _log_h(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log(z Phi(z) + phi(z))`` and its derivative, stable for very negative ``z``."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    grad = np.empty_like(z)
    upper = z > -1.0
    zu = z[upper]
    h = zu * special.ndtr(zu) + np.exp(-0.5 * zu * zu - _LOG_SQRT_2PI)
    out[upper] = np.log(h)
    grad[upper] = special.ndtr(zu) / h
    t = -z[~upper]  # t >= 1
    mills = math.sqrt(math.pi / 2.0) * special.erfcx(t / math.sqrt(2.0))  # Q(t) / phi(t)
    rest = 1.0 - t * mills  # (z Phi + phi) / phi, tends to 1 / t^2
    far = t > 1e3
    rest = np.where(far, 1.0 / (t * t), rest)
    out[~upper] = -0.5 * t * t - _LOG_SQRT_2PI + np.log(rest)
    grad[~upper] = np.where(far, t, mills / rest)
    return out, grad


def log_expected_improvement(
    mean: np.ndarray, var: np.ndarray, best: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log EI over ``best`` (maximization) and its derivatives by mean and by variance."""
    s = np.sqrt(var)
    z = (mean - best) / s
    log_h, g = _log_h(z)
    value = np.log(s) + log_h
    d_mean = g / s
    d_s = (1.0 - z * g) / s
    return value, d_mean, d_s / (2.0 * s)
