// MIND (docs/method.md §3.2–3.4, §4.8): static click history before the real one, real impressions.
// Time filter: item_features.time, the item's first-seen time in epoch seconds.
#include <cmath>

#include "scene/features.h"
#include "scene/strategy/strategies.h"
#include "util/time.h"

namespace um::scene::strategies {

namespace {

class Mind final : public Strategy {
 public:
  explicit Mind(std::string_view dataset)
      : Strategy(std::string(dataset), "", "{title} (Category: {category})\n",
                 "{title} (Category: {category}) {{ Viewed {time_diff} }}\n") {}

  void history_features(const SceneView& v, const HistoryInput& h, Fields& f) const override {
    f.add("time_diff", time_diff(v.target_us, h.timestamp_us));
  }

  bool has_time_filter() const override { return true; }
  std::optional<int64_t> release_time(const nlohmann::json&, const nlohmann::json& features) const override {
    const auto& t = member(features, "time");
    if (!t.is_number()) return std::nullopt;
    double s = t.get<double>();
    if (!std::isfinite(s)) return std::nullopt;
    return static_cast<int64_t>(std::llround(s * static_cast<double>(util::kMicrosPerSecond)));
  }

  bool static_click_history() const override { return true; }
  bool has_real_impressions() const override { return true; }
};

}  // namespace

std::unique_ptr<Strategy> mind(std::string_view dataset, const data::ReaderEntry& /*row*/) {
  return std::make_unique<Mind>(dataset);
}

}  // namespace um::scene::strategies
