"""A small Gaussian-process regressor for Bayesian optimization, on numpy and scipy only.

Model: zero mean on standardized targets, Matérn-5/2 kernel with one lengthscale per input
column (ARD), a signal variance and a noise variance. Hyperparameters are the maximum a
posteriori estimate under log-normal priors, found by L-BFGS-B with analytic gradients from
one fixed starting point (deterministic: the same data gives the same model).

Inputs are expected in the unit cube; the lengthscale prior follows the dimension-scaled
log-normal of Hvarfner et al. (2024), which keeps the model from over-fitting wiggles when
there are few points per dimension.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize, special

__all__ = ["GPPriors", "GaussianProcess", "log_expected_improvement"]

_SQRT5 = math.sqrt(5.0)


@dataclass(frozen=True)
class GPPriors:
    """Log-normal priors (mean and standard deviation of the log) and box bounds."""

    lengthscale_loc: float | None = None  # None: sqrt(2) + log(d) / 2 (dimension-scaled)
    lengthscale_scale: float = math.sqrt(3.0)
    signal_loc: float = 0.0
    signal_scale: float = 1.0
    noise_loc: float = math.log(1e-4)
    noise_scale: float = 2.0
    min_noise: float = 1e-6
    max_noise: float = 1.0
    min_lengthscale: float = 1e-2
    max_lengthscale: float = 1e2

    def lengthscale_mean(self, dim: int) -> float:
        if self.lengthscale_loc is not None:
            return self.lengthscale_loc
        return math.sqrt(2.0) + 0.5 * math.log(max(dim, 1))


def _matern(r: np.ndarray, signal: float) -> tuple[np.ndarray, np.ndarray]:
    """Kernel values and ``-(5/3) signal (1 + sqrt5 r) exp(-sqrt5 r)`` (for gradients)."""
    e = np.exp(-_SQRT5 * r)
    k = signal * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r * r) * e
    b = -(5.0 / 3.0) * signal * (1.0 + _SQRT5 * r) * e
    return k, b


def _cholesky(matrix: np.ndarray) -> np.ndarray:
    jitter = 0.0
    for _ in range(6):
        try:
            return linalg.cholesky(matrix + jitter * np.eye(len(matrix)), lower=True)
        except linalg.LinAlgError:
            jitter = 1e-8 if jitter == 0.0 else jitter * 100.0
    raise linalg.LinAlgError("kernel matrix is not positive definite even with jitter")


class GaussianProcess:
    """Posterior of a GP with fixed hyperparameters (build one with ``fit``)."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        lengthscales: np.ndarray,
        signal: float,
        noise: float,
    ) -> None:
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.lengthscales = np.asarray(lengthscales, dtype=float)
        self.signal = float(signal)
        self.noise = float(noise)
        r = self._distance(self.x)
        k, _ = _matern(r, self.signal)
        self._chol = _cholesky(k + self.noise * np.eye(len(self.x)))
        self._alpha = linalg.cho_solve((self._chol, True), self.y)

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, priors: GPPriors | None = None) -> GaussianProcess:
        """MAP hyperparameters for ``(x, y)`` (``y`` should be standardized)."""
        priors = priors or GPPriors()
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        n, dim = x.shape
        sq = (x[:, None, :] - x[None, :, :]) ** 2  # (n, n, dim), fixed during the fit
        sq_flat = sq.reshape(n * n, dim)
        ls_mean = priors.lengthscale_mean(dim)
        theta0 = np.concatenate([np.full(dim, ls_mean), [priors.signal_loc], [math.log(1e-3)]])
        bounds = [(math.log(priors.min_lengthscale), math.log(priors.max_lengthscale))] * dim
        bounds += [(math.log(1e-2), math.log(1e2))]
        bounds += [(math.log(priors.min_noise), math.log(priors.max_noise))]
        theta0 = np.clip(theta0, [b[0] for b in bounds], [b[1] for b in bounds])
        locs = np.concatenate([np.full(dim, ls_mean), [priors.signal_loc, priors.noise_loc]])
        scales = np.concatenate(
            [np.full(dim, priors.lengthscale_scale), [priors.signal_scale, priors.noise_scale]]
        )
        eye = np.eye(n)

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            inv_ls2 = np.exp(-2.0 * theta[:dim])
            signal, noise = math.exp(theta[dim]), math.exp(theta[dim + 1])
            r = np.sqrt(np.maximum(sq_flat @ inv_ls2, 0.0)).reshape(n, n)
            k, b = _matern(r, signal)
            try:
                chol = _cholesky(k + noise * eye)
            except linalg.LinAlgError:
                return 1e10, np.zeros_like(theta)
            alpha = linalg.cho_solve((chol, True), y)
            k_inv = linalg.cho_solve((chol, True), eye)
            nll = 0.5 * y @ alpha + np.log(np.diag(chol)).sum() + 0.5 * n * math.log(2 * math.pi)
            w = np.outer(alpha, alpha) - k_inv
            grad = np.empty_like(theta)
            # d k / d log(l_d) = -b * sq_d / l_d^2
            grad[:dim] = 0.5 * ((w * b).reshape(-1) @ sq_flat) * inv_ls2
            grad[dim] = -0.5 * np.sum(w * k)
            grad[dim + 1] = -0.5 * noise * np.trace(w)
            z = (theta - locs) / scales
            nll += 0.5 * float(z @ z)
            grad += z / scales
            return float(nll), grad

        result = optimize.minimize(
            objective,
            theta0,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 200},
        )
        theta = result.x
        return cls(x, y, np.exp(theta[:dim]), math.exp(theta[dim]), math.exp(theta[dim + 1]))

    def condition_on(self, x: np.ndarray, y: np.ndarray) -> GaussianProcess:
        """The same model with extra observations (e.g. fantasies for pending trials)."""
        if len(x) == 0:
            return self
        return GaussianProcess(
            np.vstack([self.x, x]),
            np.concatenate([self.y, y]),
            self.lengthscales,
            self.signal,
            self.noise,
        )

    # -- prediction ----------------------------------------------------------------------------
    def _distance(self, a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        b = a if b is None else b
        inv_ls = 1.0 / self.lengthscales
        sa, sb = a * inv_ls, b * inv_ls
        sq = (sa * sa).sum(1)[:, None] + (sb * sb).sum(1)[None, :] - 2.0 * sa @ sb.T
        return np.sqrt(np.maximum(sq, 0.0))

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of the latent function at the rows of ``x``."""
        k, _ = _matern(self._distance(np.asarray(x, dtype=float), self.x), self.signal)
        mean = k @ self._alpha
        v = linalg.solve_triangular(self._chol, k.T, lower=True)
        var = np.maximum(self.signal - (v * v).sum(0), 1e-12)
        return mean, var

    def predict_with_gradient(
        self, x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, variance and their gradients (rows of ``x`` x columns) at the rows of ``x``."""
        x = np.asarray(x, dtype=float)
        diff = x[:, None, :] - self.x[None, :, :]  # (m, n, d)
        inv_ls2 = 1.0 / self.lengthscales**2
        r = np.sqrt(np.maximum((diff * diff) @ inv_ls2, 0.0))
        k, b = _matern(r, self.signal)
        mean = k @ self._alpha
        w = linalg.cho_solve((self._chol, True), k.T)  # K^-1 k, (n, m)
        var_raw = self.signal - (k * w.T).sum(1)
        var = np.maximum(var_raw, 1e-12)
        d_mean = np.einsum("mn,mnd->md", b * self._alpha[None, :], diff) * inv_ls2
        d_var = -2.0 * np.einsum("mn,mnd->md", b * w.T, diff) * inv_ls2
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
