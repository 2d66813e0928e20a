#include <algorithm>
#include <cmath>

#include "scene/exposure/scorer.h"
#include "util/error.h"

namespace um::scene {

namespace {

struct Row {
  const char* name;
  std::unique_ptr<Scorer> (*make)(const ScorerContext&);
};

constexpr Row kScorers[] = {
    {"random", scorers::random}, {"collaborative", scorers::collaborative}, {"content", scorers::content},
    {"social", scorers::social}, {"popularity", scorers::popularity},
};

}  // namespace

std::unique_ptr<Scorer> make_scorer(std::string_view name, const ScorerContext& ctx) {
  for (const auto& r : kScorers) {
    if (name == r.name) return r.make(ctx);
  }
  throw util::NotSupported("unknown exposure scorer '" + std::string(name) +
                               "' (known: random, collaborative, content, social, popularity)",
                           {.field = "scorers"});
}

std::vector<std::string> scorer_names() {
  std::vector<std::string> v;
  for (const auto& r : kScorers) v.emplace_back(r.name);
  return v;
}

void float32_softmax(float* scores, size_t n) {
  if (n == 0) return;
  float m = scores[0];
  for (size_t i = 1; i < n; ++i) m = std::max(m, scores[i]);
  float sum = 0;
  for (size_t i = 0; i < n; ++i) {
    scores[i] = std::exp(scores[i] - m);
    sum += scores[i];
  }
  const float inv = 1.0f / sum;
  for (size_t i = 0; i < n; ++i) scores[i] *= inv;
}

void top_k_indices(const float* scores, size_t n, size_t k, std::vector<uint32_t>& out) {
  k = std::min(k, n);
  if (k == 0) return;
  // "better" = higher score, then lower index; the heap keeps the worst of the current best at front.
  auto better = [scores](uint32_t a, uint32_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  };
  std::vector<uint32_t> heap;
  heap.reserve(k);
  for (uint32_t i = 0; i < n; ++i) {
    if (heap.size() < k) {
      heap.push_back(i);
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (better(i, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = i;
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
  std::sort(heap.begin(), heap.end(), better);
  out.insert(out.end(), heap.begin(), heap.end());
}

}  // namespace um::scene
