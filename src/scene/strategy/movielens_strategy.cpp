// MovieLens (ml-1m templates, docs/method.md §3.3–3.4), shared by every MovieLens variant.
#include "scene/features.h"
#include "scene/pystr.h"
#include "scene/strategy/strategies.h"

namespace um::scene::strategies {

namespace {

constexpr const char* kProfile =
    "## User Profile\nGender: {gender}\nAge: {age}\nOccupation: {occupation}\nLocation: {location}\n";
constexpr const char* kItem = "{new_release}{title} - {genres} \n";
constexpr const char* kHistory =
    "A movie viewed {time_diff}\n{title} {genres} \nMy Behavior:\nRating: {rating}/5.0\n";

// The movie's year: item_description.year, else item_features.year.
std::optional<int64_t> movie_year_start(const nlohmann::json& description, const nlohmann::json& features) {
  auto y = year_start_us(member(description, "year"));
  return y ? y : year_start_us(member(features, "year"));
}

class MovieLens final : public Strategy {
 public:
  // ml-1m and ml-100k carry gender/age/occupation/location; the ml-latest/ml-NNm releases have no
  // user attributes, so their profile is empty (docs/reference-differences.md, Scenes). Which release
  // has them is said by its reader row (data::ReaderEntry::user_attributes).
  MovieLens(std::string_view dataset, bool user_attributes)
      : Strategy(std::string(dataset), user_attributes ? kProfile : "", kItem, kHistory) {}

  void item_features(const SceneView& v, uint32_t, const nlohmann::json& description,
                     Fields& f) const override {
    // (target − Jan 1 of year).days <= 365 → "[New Release]" (no space after it, as the reference).
    auto y = year_start_us(member(description, "year"));
    f.add("new_release", (y && whole_days(v.target_us - *y) <= 365) ? "[New Release]" : "");
  }

  void history_features(const SceneView& v, const HistoryInput& h, Fields& f) const override {
    f.add("rating", py_str(member(h.behavior, "rating")));
    f.add("time_diff", time_diff(v.target_us, h.timestamp_us));
  }

  bool has_time_filter() const override { return true; }
  std::optional<int64_t> release_time(const nlohmann::json& description,
                                      const nlohmann::json& features) const override {
    return movie_year_start(description, features);
  }
};

}  // namespace

std::unique_ptr<Strategy> movielens(std::string_view dataset, const data::ReaderEntry& row) {
  return std::make_unique<MovieLens>(dataset, row.user_attributes);
}

}  // namespace um::scene::strategies
