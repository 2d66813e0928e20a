#include "distil/option_probs.h"

#include <cassert>
#include <cmath>

namespace um::distil {

void floor_normalise(std::span<double> p) {
  double sum = 0;
  for (double& v : p) {
    if (!(v >= kProbFloor)) v = kProbFloor;  // also maps NaN to the floor
    sum += v;
  }
  for (double& v : p) v /= sum;
}

void prob_vector(const LetterProbs& dict, int choice_cnt, std::span<double> p) {
  assert(choice_cnt >= 1 && choice_cnt <= kMaxOptions && p.size() >= static_cast<size_t>(choice_cnt));
  for (int k = 0; k < choice_cnt; ++k) {
    const auto i = static_cast<size_t>(k);
    p[i] = dict.present[i] ? dict.value[i] : kProbFloor;
  }
  floor_normalise(p.first(static_cast<size_t>(choice_cnt)));
}

double entropy_bits(std::span<const double> p) {
  double h = 0;
  for (double v : p) h -= v * std::log2(v);
  return h;
}

double logloss_bits(std::span<const double> p, int truth) {
  return -std::log2(p[static_cast<size_t>(truth)]);
}

int sample_option(std::span<const double> p, util::Rng& rng) {
  const double u = rng.uniform01();
  double acc = 0;
  for (size_t k = 0; k < p.size(); ++k) {
    acc += p[k];
    if (u < acc) return static_cast<int>(k);
  }
  for (size_t k = p.size(); k > 0; --k)
    if (p[k - 1] > 0) return static_cast<int>(k - 1);
  return 0;
}

ArgMax arg_max(std::span<const double> p) {
  ArgMax r;
  for (size_t k = 1; k < p.size(); ++k) {
    if (p[k] > p[static_cast<size_t>(r.index)]) {
      r.index = static_cast<int>(k);
      r.ties = 1;
    } else if (p[k] == p[static_cast<size_t>(r.index)]) {
      ++r.ties;
    }
  }
  return r;
}

}  // namespace um::distil
