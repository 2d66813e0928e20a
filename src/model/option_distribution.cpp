// Pure scoring functions on a logits row (no torch): shared by every backend.
#include <cmath>
#include <limits>

#include "model/model.h"
#include "util/error.h"

namespace um::model {

std::vector<double> option_distribution(std::span<const float> logits, std::span<const int32_t> option_ids) {
  if (option_ids.empty())
    throw util::Error("option_distribution needs at least one option id", {.field = "option_ids"});
  double mx = -std::numeric_limits<double>::infinity();
  for (int32_t id : option_ids) {
    if (id < 0 || static_cast<size_t>(id) >= logits.size()) {
      throw util::Error("option token id " + std::to_string(id) + " is outside the vocabulary of " +
                            std::to_string(logits.size()),
                        {.field = "option_ids"});
    }
    mx = std::max(mx, static_cast<double>(logits[static_cast<size_t>(id)]));
  }
  std::vector<double> p(option_ids.size());
  if (std::isinf(mx) && mx < 0) {  // every option impossible: uniform is the only neutral answer
    throw util::Error("every option token has logit -inf", {.field = "option_ids"});
  }
  double sum = 0.0;
  for (size_t i = 0; i < option_ids.size(); ++i) {
    p[i] = std::exp(static_cast<double>(logits[static_cast<size_t>(option_ids[i])]) - mx);
    sum += p[i];
  }
  for (auto& x : p) x /= sum;
  return p;
}

std::vector<float> log_softmax(std::span<const float> logits) {
  double mx = -std::numeric_limits<double>::infinity();
  for (float v : logits) mx = std::max(mx, static_cast<double>(v));
  double sum = 0.0;
  for (float v : logits) sum += std::exp(static_cast<double>(v) - mx);
  const double lse = mx + std::log(sum);
  std::vector<float> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i)
    out[i] = static_cast<float>(static_cast<double>(logits[i]) - lse);
  return out;
}

}  // namespace um::model
