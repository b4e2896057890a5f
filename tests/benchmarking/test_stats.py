"""Confidence intervals and paired comparisons (automl_vision/benchmarking/stats.py).

The coverage and comparison tests simulate benchmarks with a known truth. A test image has a
difficulty ``a ~ Normal(MU, TAU)`` on the logit scale, drawn from a population; seed ``k``'s
model gets a shift ``s_k ~ Normal(0, sigma)`` and is right on image ``i`` with probability
``sigmoid(a_i + s_k)``, independently (so two seeds disagree on some images: about 9 % here,
at an accuracy of 0.79). The truth is the expected accuracy over images and seeds,
``E sigmoid(a + s)``, integrated numerically. Each simulated benchmark draws fresh images,
seeds and outcomes; its bootstrap values are the accuracy on resamples of its images (the
decomposable path of ``scores.score``, checked below). The resamples (``bootstrap_weights``)
are drawn once per test and shared by the repetitions: each repetition's images are fresh and
exchangeable, so its resamples are as independent of its data as fresh ones would be.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, special
from scipy import stats as sps

from automl_vision.benchmarking.scores import bootstrap_weights, score
from automl_vision.benchmarking.stats import Comparison, Interval, compare, interval

MU, TAU = 5.0, 6.0  # accuracy 0.79; two seeds disagree on 9 % of the images
N_BOOT = 500


def _expect(f, mu: float, scale: float) -> float:
    """E f(mu + scale * Z), Z standard normal."""
    density = sps.norm.pdf
    return integrate.quad(lambda x: f(mu + scale * x) * density(x), -12, 12, limit=200)[0]


ACCURACY = _expect(special.expit, MU, TAU)
SLOPE = _expect(lambda a: special.expit(a) * (1 - special.expit(a)), MU, TAU)  # d acc / d shift


def _truth(shift: float, sigma: float) -> float:
    """Expected accuracy over the image population and the seeds."""
    return _expect(special.expit, MU + shift, float(np.hypot(TAU, sigma)))


def _outcomes(rng, reps: int, k: int, n: int, sigma: float, shift: float = 0.0, images=None):
    """``reps`` benchmarks at once: whether seed k's model is right on image i, ``(reps, K,
    N)``, and the images' difficulties (to give a second method the same images)."""
    a = rng.normal(MU, TAU, (reps, 1, n)) if images is None else images
    s = rng.normal(0.0, sigma, (reps, k, 1))
    return (rng.random((reps, k, n)) < special.expit(a + shift + s)).astype(np.float64), a


def _values(right: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seed values ``(K, reps)`` and bootstrap values ``(K, B, reps)``: the accuracy on the
    test set and on each resample (a weighted mean of per-image outcomes)."""
    reps, k, n = right.shape
    boot = right.reshape(reps * k, n) @ (weights.T / weights.sum(axis=1))
    return right.mean(axis=2).T, boot.reshape(reps, k, -1).transpose(1, 2, 0)


# ----------------------------------------------------------------------------- coverage

# the seed effect's standard deviation (accuracy), in units of one model's image noise
# sqrt(acc (1 - acc) / N): none, three times it (the seeds dominate), 1.5 times (mixed)
REGIMES = {"image-dominated": 0.0, "seed-dominated": 3.0, "mixed": 1.5}


@pytest.mark.parametrize("n", [200, 1000])
@pytest.mark.parametrize("k", [3, 5])
@pytest.mark.parametrize("regime", list(REGIMES))
def test_the_95_interval_covers_the_truth_92_to_98_percent_of_500_benchmarks(
    regime: str, k: int, n: int
) -> None:
    """Coverage measured with these seeds, 500 repetitions (in brackets: 4000 other ones).

    ===============  ===  ==============  ==============
    regime           K    N = 200         N = 1000
    ===============  ===  ==============  ==============
    image-dominated  3    0.956 (0.958)   0.968 (0.960)
    image-dominated  5    0.962 (0.956)   0.942 (0.949)
    seed-dominated   3    0.954 (0.947)   0.962 (0.953)
    seed-dominated   5    0.924 (0.945)   0.972 (0.959)
    mixed            3    0.954 (0.960)   0.966 (0.963)
    mixed            5    0.954 (0.956)   0.958 (0.955)
    ===============  ===  ==============  ==============
    """
    seed_no = list(REGIMES).index(regime) * 4 + [3, 5].index(k) * 2 + [200, 1000].index(n)
    rng = np.random.default_rng(2900 + seed_no)
    sigma = REGIMES[regime] * np.sqrt(ACCURACY * (1 - ACCURACY) / n) / SLOPE  # logit scale
    truth = _truth(0.0, sigma)
    weights = bootstrap_weights(n, N_BOOT, rng)
    seed, boot = _values(_outcomes(rng, 500, k, n, sigma)[0], weights)
    got = interval(seed, boot)
    coverage = float(np.mean((got.ci_low <= truth) & (truth <= got.ci_high)))
    assert 0.92 <= coverage <= 0.98, (regime, k, n, coverage)


def test_the_simulated_values_are_the_accuracy_that_scores_computes() -> None:
    rng = np.random.default_rng(1)
    weights = bootstrap_weights(50, 20, rng)
    right, _ = _outcomes(rng, 1, 2, 50, 0.3)
    seed, boot = _values(right, weights)
    targets = np.zeros(50, dtype=int)
    for j in range(2):  # the target gets 0.9 where the model is right, else 0.1
        probs = np.where(right[0, j][:, None] == 1, [[0.9, 0.1]], [[0.1, 0.9]])
        got = score("multiclass", probs, targets, weights=weights)["accuracy"]
        np.testing.assert_allclose(got, boot[j, :, 0], atol=1e-12)
        assert score("multiclass", probs, targets)["accuracy"][0] == pytest.approx(seed[j, 0])


# ----------------------------------------------------------------------------- comparison


def _benchmarks(difference: float, reps: int = 200, seed: int = 7):
    """``reps`` paired benchmarks (N = 1000 images, K = 3 seeds each, seed sd 0.3 points):
    method a is ``difference`` (accuracy) better in truth. The p-values of a - b."""
    rng = np.random.default_rng(seed)
    n, k = 1000, 3
    shift = 0.0
    if difference:
        shift = optimize.brentq(lambda d: _truth(d, 0) - ACCURACY - difference, -3, 3)
    sigma = 0.003 / SLOPE
    weights = bootstrap_weights(n, N_BOOT, rng)
    a_right, images = _outcomes(rng, reps, k, n, sigma, shift)
    b_right, _ = _outcomes(rng, reps, k, n, sigma, images=images)
    return compare(*_values(a_right, weights), *_values(b_right, weights)).p_value


def test_a_planted_difference_of_4_points_is_found_in_at_least_90_percent() -> None:
    """N = 1000, K = 3, seed sd 0.3 points: found (p < 0.05) in 196 of these 200 benchmarks
    (0.98); 0.990 of 2000 others. A 3-point difference is found in 0.903 of 2000: with three
    seeds, their spread has two degrees of freedom, so the seed part of the interval stays
    wide (seed sd 0.5 points: 0.974 at 4 points, 0.838 at 3)."""
    found = float(np.mean(_benchmarks(0.04) < 0.05))
    assert found >= 0.90, found


def test_a_planted_tie_is_declared_significant_in_at_most_8_percent() -> None:
    """The same benchmarks with no difference: p < 0.05 in 2 of these 200 (0.01); 0.036 of
    2000 others."""
    false_alarm = float(np.mean(_benchmarks(0.0, seed=8) < 0.05))
    assert false_alarm <= 0.08, false_alarm


def test_the_p_value_and_the_interval_agree() -> None:
    """p < 1 - level exactly when the interval at level excludes 0 (per trailing element)."""
    rng = np.random.default_rng(3)
    a_seed, b_seed = rng.normal(0.8, 0.01, (3, 40)), rng.normal(0.8, 0.01, (4, 40))
    a_boot = a_seed[:, None] + rng.normal(0, 0.01, (3, 100, 40))
    b_boot = b_seed[:, None] + rng.normal(0, 0.01, (4, 100, 40))
    for level in (0.9, 0.95):
        got = compare(a_seed, a_boot, b_seed, b_boot, level=level)
        excludes = (got.ci_low > 0) | (got.ci_high < 0)
        assert 0 < excludes.sum() < 40
        assert np.array_equal(got.p_value < 1 - level, excludes)


# ----------------------------------------------------------------------------- semantics


def _example(k: int, b: int = 200, seed: int = 0):
    rng = np.random.default_rng(seed)
    seed_values = 0.7 + rng.normal(0, 0.02, k)
    boot = seed_values[:, None] + rng.normal(0, 0.01, (1, b)) + rng.normal(0, 0.004, (k, b))
    return seed_values, boot


def test_the_interval_is_the_seed_mean_plus_the_image_and_seed_parts() -> None:
    """Centre: the mean of the seed values; half-width sqrt(z² V_img + t²(K-1) E)."""
    seed_values, boot = _example(3)
    got = interval(seed_values, boot)
    v_img = np.var(boot.mean(axis=0), ddof=1)
    within = np.mean(np.var(boot - boot.mean(axis=1, keepdims=True), axis=0, ddof=1)) * 200 / 199
    excess = max(np.var(seed_values, ddof=1) - within, 0) / 3
    assert excess > 0
    half = np.sqrt(sps.norm.ppf(0.975) ** 2 * v_img + sps.t.ppf(0.975, 2) ** 2 * excess)
    assert isinstance(got, Interval) and got.n_seeds == 3 and got.n_images is None
    assert got.mean == pytest.approx(seed_values.mean(), abs=1e-15)
    assert got.ci_high - got.mean == pytest.approx(half, rel=1e-9)
    assert got.mean - got.ci_low == pytest.approx(half, rel=1e-9)
    assert interval(seed_values, boot, n_images=1234).n_images == 1234


def test_seeds_that_differ_only_by_image_noise_add_no_seed_part() -> None:
    """The seeds' spread no larger than their resamples' own spread: the image part alone."""
    rng = np.random.default_rng(4)
    common = rng.normal(0, 0.01, (1, 300))
    own = rng.normal(0, 0.01, (3, 300))
    seed_values = np.array([0.700, 0.701, 0.699])  # spread far below the own noise (0.01)
    got = interval(seed_values, seed_values[:, None] + common + own)
    v_img = np.var((common + own).mean(axis=0), ddof=1)
    assert got.ci_high - got.mean == pytest.approx(sps.norm.ppf(0.975) * np.sqrt(v_img))


def test_one_seed_gives_the_image_part_only() -> None:
    seed_values, boot = _example(1)
    got = interval(seed_values, boot, level=0.9)
    half = sps.norm.ppf(0.95) * np.std(boot[0], ddof=1)
    assert got.n_seeds == 1
    assert (got.mean, got.ci_high - got.mean) == pytest.approx((seed_values[0], half))


def test_more_seed_spread_widens_the_interval_and_a_higher_level_too() -> None:
    seed_values, boot = _example(5)
    base = interval(seed_values, boot)
    spread = seed_values.mean() + 3 * (seed_values - seed_values.mean())
    wider = interval(spread, boot - seed_values[:, None] + spread[:, None])
    assert wider.ci_high - wider.ci_low > base.ci_high - base.ci_low
    high = interval(seed_values, boot, level=0.99)
    assert high.ci_low < base.ci_low and high.ci_high > base.ci_high


def test_trailing_dimensions_are_independent_metrics() -> None:
    """Per class: (K, C) and (K, B, C) give arrays of shape (C,), each the scalar result."""
    rng = np.random.default_rng(5)
    seed_values = rng.uniform(0.4, 0.9, (3, 6))
    boot = seed_values[:, None] + rng.normal(0, 0.02, (3, 100, 6))
    other = seed_values + 0.01
    other_boot = boot + 0.01 + rng.normal(0, 0.01, (3, 100, 6))
    got = interval(seed_values, boot)
    diff = compare(seed_values, boot, other, other_boot)
    for field in ("mean", "ci_low", "ci_high"):
        assert getattr(got, field).shape == (6,)
    for field in ("difference", "ci_low", "ci_high", "p_value"):
        assert getattr(diff, field).shape == (6,)
    for j in range(6):
        one = interval(seed_values[:, j], boot[:, :, j])
        assert (one.mean, one.ci_low, one.ci_high) == pytest.approx(
            (got.mean[j], got.ci_low[j], got.ci_high[j]), abs=1e-12
        )
        pair = compare(seed_values[:, j], boot[:, :, j], other[:, j], other_boot[:, :, j])
        assert pair.p_value == pytest.approx(diff.p_value[j], abs=1e-12)
    two_d = interval(rng.random((2, 3, 4)), rng.random((2, 10, 3, 4)))
    assert two_d.ci_low.shape == (3, 4)


def test_compare_is_paired_over_the_same_resamples() -> None:
    """Image noise both methods share cancels in the difference: a small, steady advantage
    over a noisy test set is significant, although each method's own interval is wide."""
    rng = np.random.default_rng(6)
    common = rng.normal(0, 0.03, (1, 400))  # hard and easy resamples, for both methods
    a_seed, b_seed = np.array([0.805, 0.806, 0.804]), np.array([0.795, 0.796, 0.794])
    a_boot = a_seed[:, None] + common + rng.normal(0, 0.001, (3, 400))
    b_boot = b_seed[:, None] + common + rng.normal(0, 0.001, (3, 400))
    got = compare(a_seed, a_boot, b_seed, b_boot)
    assert isinstance(got, Comparison)
    assert got.difference == pytest.approx(0.01)
    assert got.p_value < 1e-3 and got.ci_low > 0.005
    alone = interval(a_seed, a_boot)
    assert alone.ci_low < b_seed.mean()  # unpaired intervals would overlap
    flipped = compare(b_seed, b_boot, a_seed, a_boot)
    assert (flipped.difference, flipped.p_value) == pytest.approx((-0.01, got.p_value))


def test_compare_adds_both_methods_seed_parts_with_welch_degrees_of_freedom() -> None:
    rng = np.random.default_rng(9)
    common = rng.normal(0, 0.005, (1, 300))
    a_seed, b_seed = np.array([0.80, 0.83, 0.77]), np.array([0.70, 0.74, 0.72, 0.66, 0.70])
    a_boot = a_seed[:, None] + common + rng.normal(0, 0.002, (3, 300))
    b_boot = b_seed[:, None] + common + rng.normal(0, 0.002, (5, 300))

    def excess(seed, boot):
        within = np.var(boot - boot.mean(1, keepdims=True), axis=0, ddof=1).sum() / 299
        return max(np.var(seed, ddof=1) - within, 0) / len(seed)

    e_a, e_b = excess(a_seed, a_boot), excess(b_seed, b_boot)
    dof = (e_a + e_b) ** 2 / (e_a**2 / 2 + e_b**2 / 4)
    v = np.var(a_boot.mean(0) - b_boot.mean(0), ddof=1)
    half = np.sqrt(sps.norm.ppf(0.975) ** 2 * v + sps.t.ppf(0.975, dof) ** 2 * (e_a + e_b))
    got = compare(a_seed, a_boot, b_seed, b_boot)
    assert got.ci_high - got.difference == pytest.approx(half, rel=1e-9)


def test_without_a_seed_part_the_p_value_is_the_normal_one() -> None:
    """One seed each: the paired bootstrap's normal p-value, 2 P(Z > |d| / sd)."""
    rng = np.random.default_rng(10)
    a_boot = 0.81 + rng.normal(0, 0.01, (1, 300))
    b_boot = 0.80 + rng.normal(0, 0.01, (1, 300))
    got = compare(np.array([0.81]), a_boot, np.array([0.80]), b_boot)
    sd = np.std(a_boot[0] - b_boot[0], ddof=1)
    assert got.p_value == pytest.approx(2 * sps.norm.sf(0.01 / sd), rel=1e-9)


def test_zero_variance_gives_a_zero_width_interval_and_p_value_1_for_no_difference() -> None:
    seed_values = np.full(3, 0.1)  # 0.1 * 3 / 3 is not 0.1 in floating point: no residue
    boot = np.full((3, 50), 0.1)
    got = interval(seed_values, boot)
    assert (got.mean, got.ci_low, got.ci_high) == (0.1, 0.1, 0.1)
    same = compare(seed_values, boot, seed_values, boot)
    assert (same.difference, same.ci_low, same.ci_high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    apart = compare(seed_values + 0.2, boot + 0.2, seed_values, boot)
    assert apart.p_value == 0.0 and apart.ci_low == apart.ci_high == pytest.approx(0.2)
    # a method against itself: difference 0, p-value 1, its seed parts still in the interval
    seed_values, boot = _example(3)
    itself = compare(seed_values, boot, seed_values, boot)
    assert itself.difference == 0.0 and itself.p_value == 1.0 and itself.ci_low < 0 < itself.ci_high


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((np.array([0.5, np.nan]), np.zeros((2, 10))), "seed_values"),
        ((np.array([0.5, 0.6]), np.full((2, 10), np.nan)), "boot_values"),
        ((np.array([0.5, 0.6]), np.full((2, 10), np.inf)), "boot_values"),
        ((np.array([0.5, 0.6]), np.zeros((3, 10))), "boot_values"),
        ((np.array([0.5, 0.6]), np.zeros((2, 1))), "boot_values"),
        ((np.array([0.5, 0.6]), np.zeros((2, 10, 3))), "boot_values"),
        ((np.zeros(0), np.zeros((0, 10))), "seed_values"),
    ],
)
def test_bad_interval_input_is_one_error_naming_it(args, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        interval(*args)


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.1, True, "0.95"])
def test_a_level_outside_0_1_is_refused(level) -> None:
    seed_values, boot = _example(2)
    with pytest.raises(ValueError, match="level"):
        interval(seed_values, boot, level=level)
    with pytest.raises(ValueError, match="level"):
        compare(seed_values, boot, seed_values, boot, level=level)


def test_bad_compare_input_names_the_argument() -> None:
    seed_values, boot = _example(2)
    with pytest.raises(ValueError, match="b_seed"):
        compare(seed_values, boot, np.array([np.nan, 0.5]), boot)
    with pytest.raises(ValueError, match="a_boot"):
        compare(seed_values, boot[:1], seed_values, boot)
    with pytest.raises(ValueError, match="a_boot and b_boot"):
        compare(seed_values, boot, seed_values, boot[:, :100])
