#pragma once
// Rank statistics of the arena report: Kendall's τ-b and Spearman's ρ between two score vectors over
// the same recommenders, and Bradley–Terry strengths from pairwise win masses.
#include <vector>

namespace um::arena {

// τ-b = (C − D) / sqrt((n0 − n1)(n0 − n2)) with ties counted per variable (scipy.stats.kendalltau's
// default); 0 when either vector is constant (undefined).
double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);
// Pearson correlation of the average ranks (ties share the mean rank); 0 when a vector is constant.
double spearman_rho(const std::vector<double>& x, const std::vector<double>& y);

// wins[i][j] = (fractional) wins of i over j. Strengths by the MM algorithm (Hunter 2004), normalised
// to sum to 1, with a 0.5-win prior in each direction so that unbeaten players stay finite.
std::vector<double> bradley_terry(const std::vector<std::vector<double>>& wins, int iterations = 1000);

}  // namespace um::arena
