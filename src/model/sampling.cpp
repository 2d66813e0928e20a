#include "model/sampling.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace um::model {

namespace {
bool before(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}
void renormalise(std::vector<Candidate>& c) {
  double s = 0;
  for (const auto& x : c) s += x.p;
  for (auto& x : c) x.p /= s;
}
}  // namespace

int32_t argmax(std::span<const float> logits) {
  if (logits.empty()) throw util::Error("argmax of an empty logits row");
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return static_cast<int32_t>(best);
}

std::vector<Candidate> candidates(std::span<const float> logits) {
  std::vector<Candidate> c;
  c.reserve(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) c.push_back({static_cast<int32_t>(i), logits[i], 0.0});
  return c;
}

void apply_temperature(std::vector<Candidate>& c, double temperature) {
  if (!(temperature > 0)) throw util::Error("temperature must be > 0 here", {.field = "temperature"});
  for (auto& x : c) x.logit = static_cast<float>(x.logit / temperature);
}

void top_k(std::vector<Candidate>& c, int k) {
  if (k > 0 && static_cast<size_t>(k) < c.size()) {
    std::partial_sort(c.begin(), c.begin() + k, c.end(), before);
    c.resize(static_cast<size_t>(k));
  } else {
    std::sort(c.begin(), c.end(), before);
  }
}

void softmax(std::vector<Candidate>& c) {
  if (c.empty()) throw util::Error("no candidates to sample from");
  const double mx = c.front().logit;
  for (auto& x : c) x.p = std::exp(static_cast<double>(x.logit) - mx);
  renormalise(c);
}

void top_p(std::vector<Candidate>& c, double p) {
  if (p >= 1.0) return;
  double cum = 0;
  size_t keep = 0;
  while (keep < c.size()) {
    cum += c[keep].p;
    ++keep;
    if (cum >= p) break;
  }
  c.resize(std::max<size_t>(keep, 1));
  renormalise(c);
}

void min_p(std::vector<Candidate>& c, double mp) {
  if (mp <= 0.0 || c.empty()) return;
  const double cut = mp * c.front().p;
  size_t keep = 1;
  while (keep < c.size() && c[keep].p >= cut) ++keep;
  c.resize(keep);
  renormalise(c);
}

int32_t draw(const std::vector<Candidate>& c, util::Rng& rng) {
  if (c.empty()) throw util::Error("no candidates to sample from");
  double u = rng.uniform01();
  for (const auto& x : c) {
    if (u < x.p) return x.id;
    u -= x.p;
  }
  return c.back().id;  // rounding left a sliver of mass
}

int32_t sample(std::span<const float> logits, const SamplingParams& params, util::Rng& rng) {
  if (params.temperature <= 0.0) return argmax(logits);
  auto c = candidates(logits);
  apply_temperature(c, params.temperature);
  top_k(c, params.top_k);
  softmax(c);
  top_p(c, params.top_p);
  min_p(c, params.min_p);
  return draw(c, rng);
}

}  // namespace um::model
