// Goodreads comics & graphic (docs/method.md §3.3–3.4). `genres` is a list and renders as a Python list.
#include "scene/features.h"
#include "scene/pystr.h"
#include "scene/strategy/strategies.h"

namespace um::scene::strategies {

namespace {

constexpr const char* kItem =
    "Title:{title} ({genres}) \nAuthor: {authors}\nPublished at {publication_year} - {publisher} - "
    "{num_pages} "
    "pages\nRating: {average_rating} - {ratings_count} ratings\n";
constexpr const char* kHistory =
    "A book viewed {time_diff}\nTitle:{title} ({genres}) \nDescription: {shorten_description}\nAuthor: "
    "{authors}\nPublished at {publication_year} - {publisher} - {num_pages} pages\nRating: {average_rating} "
    "- "
    "{ratings_count} ratings\nMy Behavior: {read_status}{rating_updated}{review_updated}\n";

class Goodreads final : public Strategy {
 public:
  explicit Goodreads(std::string_view dataset) : Strategy(std::string(dataset), "", kItem, kHistory) {}

  void history_features(const SceneView& v, const HistoryInput& h, Fields& f) const override {
    bool read = py_truthy(member(h.behavior, "is_read"));
    f.add("read_status", read ? "Read" : "Not Read");
    f.add("rating_updated", read ? "\nRating: " + py_str(member(h.behavior, "rating")) : "");
    const auto& review = member(h.behavior, "review_text");
    f.add("review_updated", read && py_truthy(review) ? "\nReview: " + truncate_value(review, 50) : "");
    f.add("shorten_description", truncate_value(member(h.description, "description"), 50));
    f.add("time_diff", time_diff(v.target_us, h.timestamp_us));
  }
};

}  // namespace

std::unique_ptr<Strategy> goodreads(std::string_view dataset, const data::ReaderEntry& /*row*/) {
  return std::make_unique<Goodreads>(dataset);
}

}  // namespace um::scene::strategies
