// MobileRec (docs/method.md §3.3–3.4). No time_diff in the history template.
#include "scene/features.h"
#include "scene/pystr.h"
#include "scene/strategy/strategies.h"

namespace um::scene::strategies {

namespace {

constexpr const char* kItem =
    "{app_name} ({avg_rating}/5.0 - {num_reviews} reviews)\nCategory: {app_category}\nDeveloper: "
    "{developer_name}\nPrice: {price}\n\n";
constexpr const char* kHistory =
    "{app_name} ({avg_rating}/5.0 - {num_reviews} reviews)\nCategory: {app_category}\nDeveloper: "
    "{developer_name}\nPrice: {price}\nDescription: {short_description}\nMy Rating: {rating}\nMy Reviews: "
    "{review}\n\n";

class MobileRec final : public Strategy {
 public:
  explicit MobileRec(std::string_view dataset) : Strategy(std::string(dataset), "", kItem, kHistory) {}

  void history_features(const SceneView& v, const HistoryInput& h, Fields& f) const override {
    f.add("rating", py_str(member(h.behavior, "rating")));
    f.add("review", py_str(member(h.behavior, "review")));
    f.add("short_description", truncate_value(member(h.description, "description"), 20));
    f.add("time_diff", time_diff(v.target_us, h.timestamp_us));
  }
};

}  // namespace

std::unique_ptr<Strategy> mobilerec(std::string_view dataset, const data::ReaderEntry& /*row*/) {
  return std::make_unique<MobileRec>(dataset);
}

}  // namespace um::scene::strategies
