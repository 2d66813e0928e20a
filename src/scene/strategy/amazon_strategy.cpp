// Amazon Reviews (docs/method.md §3.3–3.4). Truncation splits on single spaces, like the reference.
#include "scene/features.h"
#include "scene/pystr.h"
#include "scene/strategy/strategies.h"

namespace um::scene::strategies {

namespace {

constexpr const char* kItem =
    "Product name: {short_title}\nCategory: {category}\nPrice: {rev_price}\nRatings: {average_rating} "
    "({rating_number})\n";
constexpr const char* kHistory =
    "A product bought {time_diff}\nProduct name: {short_title}\nCategory: {category}\nPrice: {rev_price}\n"
    "Ratings: {average_rating} ({rating_number})\nMy Behavior:\nRating: {rating}/5 \nReview: "
    "{review_summary}\n"
    "{review_text}\n";

// "NA" for a missing price: null/NaN, or the strings "", "None" and "NA" (the reference prepare
// writes "NA" for a missing price and then renders "$NA"; it also treats "None" as missing only in
// exposures, §11.12 — we use one rule for both, docs/reference-differences.md).
std::string rev_price(const nlohmann::json& price) {
  if (price.is_null()) return "NA";
  if (price.is_string()) {
    const auto& s = price.get_ref<const std::string&>();
    if (s.empty() || s == "None" || s == "NA") return "NA";
  }
  return "$" + py_str(price);
}

class Amazon final : public Strategy {
 public:
  explicit Amazon(std::string_view dataset) : Strategy(std::string(dataset), "", kItem, kHistory) {}

  void item_features(const SceneView&, uint32_t, const nlohmann::json& d, Fields& f) const override {
    f.add("short_title", truncate_value(member(d, "title"), 10, true));
    f.add("rev_price", rev_price(member(d, "price")));
  }

  void history_features(const SceneView& v, const HistoryInput& h, Fields& f) const override {
    f.add("rating", py_str(member(h.behavior, "rating")));
    f.add("review_text", truncate_value(member(h.behavior, "review_text"), 30, true));
    f.add("review_summary", py_str(member(h.behavior, "review_summary")));
    f.add("short_title", truncate_value(member(h.description, "title"), 10, true));
    f.add("rev_price", rev_price(member(h.description, "price")));
    f.add("time_diff", time_diff(v.target_us, h.timestamp_us));
  }
};

}  // namespace

std::unique_ptr<Strategy> amazon(std::string_view dataset, const data::ReaderEntry& /*row*/) {
  return std::make_unique<Amazon>(dataset);
}

}  // namespace um::scene::strategies
