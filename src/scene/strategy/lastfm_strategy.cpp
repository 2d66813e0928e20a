// Last.fm hetrec2011 (docs/method.md §3.3–3.4, §4.3 social scorer). The reference's time filter reads a
// release_date LastFM items do not have, so it never filters; we declare no time filter.
#include <algorithm>

#include "scene/features.h"
#include "scene/pystr.h"
#include "scene/strategy/strategies.h"

namespace um::scene::strategies {

namespace {

constexpr const char* kItem = "Artist name: {name} ({listened_friends})\nTags: {tags}\n";
constexpr const char* kHistory =
    "An artist listened {time_diff}\nArtist name: {name} \nTags: {tags}\nMy Behavior: Tagging with "
    "{tagValue}\n";

class LastFM final : public Strategy {
 public:
  explicit LastFM(std::string_view dataset) : Strategy(std::string(dataset), "", kItem, kHistory) {}

  // Number of the user's friends who interacted with this artist at any time (as the reference).
  void item_features(const SceneView& v, uint32_t item, const nlohmann::json&, Fields& f) const override {
    size_t n = 0;
    if (!v.social.empty()) {
      for (uint32_t fr : v.social.friends[v.user]) n += v.index.has_touched(fr, item) ? 1 : 0;
    }
    f.add("listened_friends", n > 0 ? std::to_string(n) + " friend(s) listened" : "");
  }

  void history_features(const SceneView& v, const HistoryInput& h, Fields& f) const override {
    const auto& tags = member(h.behavior, "tagValue");
    std::string joined;
    if (tags.is_array()) {
      for (const auto& t : tags) {
        if (!joined.empty()) joined += ", ";
        joined += py_str(t);
      }
    } else if (py_truthy(tags)) {
      joined = py_str(tags);
    }
    f.add("tagValue", joined.empty() ? "No tags" : joined);
    f.add("time_diff", time_diff(v.target_us, h.timestamp_us));
  }

  std::vector<std::string> default_scorers() const override { return {"random", "collaborative", "social"}; }
  bool uses_friends() const override { return true; }
};

}  // namespace

std::unique_ptr<Strategy> lastfm(std::string_view dataset, const data::ReaderEntry& /*row*/) {
  return std::make_unique<LastFM>(dataset);
}

}  // namespace um::scene::strategies
