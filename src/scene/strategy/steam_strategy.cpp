// Steam (docs/method.md §3.3–3.4). Time filter: release_date "%Y-%m-%d"; unparsable → 1970-01-01.
#include "scene/features.h"
#include "scene/pystr.h"
#include "scene/strategy/strategies.h"
#include "util/time.h"

namespace um::scene::strategies {

namespace {

constexpr const char* kProfile = "## User Profile\nA user who has purchased {products} games\n";
constexpr const char* kItem =
    "Title: {app_name} [{genres}]\nDeveloped by {developer} | Published by {publisher}\nReleased: "
    "{release_date} \nTags: {tags}\nSpecifications: {specs}\nPlayer Reviews: {sentiment}\nPrice: {price}\n";
constexpr const char* kHistory =
    "A game purchased {time_diff}\nTitle: {app_name} [{genres}]\nDeveloped by {developer} | Published by "
    "{publisher}\nReleased: {release_date} \nTags: {tags}\nSpecifications: {specs}\nPlayer Reviews: "
    "{sentiment}\nPrice: {price}\nMy Behavior: Played {hours_played} hours | Review: {shorten_review_text}\n";

class Steam final : public Strategy {
 public:
  explicit Steam(std::string_view dataset) : Strategy(std::string(dataset), kProfile, kItem, kHistory) {}

  void history_features(const SceneView& v, const HistoryInput& h, Fields& f) const override {
    f.add("hours_played", py_str(member(h.behavior, "hours_played")));
    f.add("shorten_review_text", truncate_value(member(h.behavior, "review_text"), 50));
    f.add("time_diff", time_diff(v.target_us, h.timestamp_us));
  }

  bool has_time_filter() const override { return true; }
  std::optional<int64_t> release_time(const nlohmann::json& description,
                                      const nlohmann::json& features) const override {
    const nlohmann::json* d = &member(features, "release_date");
    if (d->is_null()) d = &member(description, "release_date");
    if (d->is_string()) {
      const auto& s = d->get_ref<const std::string&>();
      if (s.size() == 10 && s[4] == '-' && s[7] == '-') {
        if (auto t = util::parse_datetime(s)) return t;
      }
    }
    return 0;  // the reference maps unparsable dates to 1970-01-01, i.e. never filtered
  }
};

}  // namespace

std::unique_ptr<Strategy> steam(std::string_view dataset, const data::ReaderEntry& /*row*/) {
  return std::make_unique<Steam>(dataset);
}

}  // namespace um::scene::strategies
