// Social scorer (LastFM, docs/method.md §4.3): number of the user's friends who interacted with each
// item. We count only friends' interactions strictly before the target time (the reference uses
// every interaction, future ones included, §11.3) and rank only items with at least one friend.
// With --compat reference: the reference's S = F · R row over the iid space (friends' interactions at
// any time, duplicates summed), float32 softmax, top-k with ties at the lowest iids.
#include <algorithm>

#include "scene/exposure/scorer.h"

namespace um::scene::scorers {

namespace {

class Social final : public Scorer {
 public:
  Social(const DatasetIndex& index, const SocialGraph& social, bool reference)
      : index_(index), social_(social), reference_(reference) {}
  std::string_view name() const override { return "social"; }
  void top_k(const ScoreQuery& q, size_t k, util::Rng&, std::vector<uint32_t>& out) const override {
    if (social_.empty()) return;
    if (reference_) {
      std::vector<float> s(index_.num_iids(), 0.0f);
      for (uint32_t fr : social_.friends[q.user]) {
        for (uint32_t x : index_.timeline(fr))
          s[static_cast<size_t>(index_.item_iid(index_.interaction_item(x)))] += 1;
      }
      float32_softmax(s.data(), s.size());
      std::vector<uint32_t> iids;
      top_k_indices(s.data(), s.size(), k, iids);
      for (uint32_t iid : iids) out.push_back(index_.iid_item(iid));
      return;
    }
    std::vector<std::pair<uint32_t, uint32_t>> counts;  // (item, friends)
    std::vector<uint32_t> items;
    for (uint32_t fr : social_.friends[q.user]) {
      size_t end = index_.count_before(fr, q.target_us);
      auto tl = index_.timeline(fr);
      size_t start = items.size();
      for (size_t i = 0; i < end; ++i) items.push_back(index_.interaction_item(tl.begin()[i]));
      // one vote per friend and item
      std::sort(items.begin() + static_cast<std::ptrdiff_t>(start), items.end());
      items.erase(std::unique(items.begin() + static_cast<std::ptrdiff_t>(start), items.end()), items.end());
    }
    std::sort(items.begin(), items.end());
    for (size_t i = 0; i < items.size();) {
      size_t j = i;
      while (j < items.size() && items[j] == items[i]) ++j;
      counts.emplace_back(items[i], static_cast<uint32_t>(j - i));
      i = j;
    }
    std::sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
      return a.second > b.second || (a.second == b.second && a.first < b.first);
    });
    for (size_t i = 0; i < counts.size() && i < k; ++i) out.push_back(counts[i].first);
  }

 private:
  const DatasetIndex& index_;
  const SocialGraph& social_;
  bool reference_;
};

}  // namespace

std::unique_ptr<Scorer> social(const ScorerContext& ctx) {
  return std::make_unique<Social>(ctx.index, ctx.social, ctx.compat == data::Compat::reference);
}

}  // namespace um::scene::scorers
