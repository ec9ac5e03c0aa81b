"""Statistics for claims: classic tests, effect sizes, Holm (`core`), clustered bootstrap
intervals (`bootstrap`), trial-level ratio and slope tests (`slope`), closed-form power
(`approx_power`), the location tests claims decide with, each with the interval it decides by
(`location`), Friedman by its permutation distribution (`blocked`), and protocol effects raw
and at equal answer length for the report (`length_adjust`).
`from sorg import stats; stats.holm(...)` reaches all of them.

Claims judge one number per unit (task) with `sorg.inference` and size studies with
`sorg.power`; see those modules for why.
"""

from sorg.stats.approx_power import (
    RANK_ARE,
    n_for_power,
    n_paired_for_power,
    n_two_sample_for_power,
    power_paired,
    power_tost,
    power_two_sample,
    power_z,
)
from sorg.stats.blocked import FriedmanResult, friedman_perm
from sorg.stats.bootstrap import (
    DEFAULT_BOOT,
    DEFAULT_SEED,
    boot_d_ci,
    boot_diff_ci,
    boot_dz_ci,
    boot_mean_ci,
    boot_ratio_ci,
    boot_weights,
    cluster_bootstrap,
    cluster_codes,
    naive_mean_ci,
)
from sorg.stats.core import (
    TestResult,
    cohen_d,
    cohen_dz,
    d_ci,
    dz_ci,
    friedman,
    holm,
    kruskal,
    mann_whitney,
    paired_t,
    tost_paired,
    tost_welch,
    welch_t,
    wilcoxon_paired,
)
from sorg.stats.length_adjust import LengthEffects, Obs, length_effects
from sorg.stats.location import LocationResult, check_alpha, floor_p, hodges_lehmann, location_test
from sorg.stats.slope import demean, log_ratio_test, loglog_slope

__all__ = [
    "DEFAULT_BOOT", "DEFAULT_SEED", "FriedmanResult", "LocationResult", "RANK_ARE", "TestResult", "check_alpha",
    "floor_p", "friedman_perm", "hodges_lehmann", "location_test", "boot_d_ci", "boot_diff_ci", "boot_dz_ci",
    "LengthEffects", "Obs", "length_effects",
    "boot_mean_ci", "boot_ratio_ci", "boot_weights", "cluster_bootstrap", "cluster_codes", "cohen_d", "cohen_dz",
    "d_ci", "demean", "dz_ci", "friedman", "holm", "kruskal", "log_ratio_test", "loglog_slope", "mann_whitney",
    "n_for_power", "n_paired_for_power", "n_two_sample_for_power", "naive_mean_ci", "paired_t", "power_paired",
    "power_tost", "power_two_sample", "power_z", "tost_paired", "tost_welch", "welch_t", "wilcoxon_paired",
]
