// KuaiRec 2.0 (docs/method.md §3.3–3.4). Time filter: item_features.upload_dt (epoch seconds).
#include <cmath>

#include "scene/features.h"
#include "scene/pystr.h"
#include "scene/strategy/strategies.h"
#include "util/time.h"

namespace um::scene::strategies {

namespace {

constexpr const char* kProfile =
    "## User Profile\nCountry: China\nRegistered {register_days} days ago\n{friend_user_num} Friends | "
    "{follow_user_num} Followers | {fans_user_num} Fans\nActive Degree: {active_degree}\nRole: {role}\n";
constexpr const char* kItem =
    "Title:{caption} {category} {cover_text}\nDuration: {video_duration}\n{play_count} plays | {like_count} "
    "likes "
    "| {comment_count} comments | {share_count} shares\n\n";
constexpr const char* kHistory =
    "A video watched {time_diff}\nTitle:{caption} {category} {cover_text}\nDuration: {video_duration}\n"
    "{play_count} plays | {like_count} likes | {comment_count} comments | {share_count} shares\nMy Behavior: "
    "{operation}\n\n";

class KuaiRec final : public Strategy {
 public:
  explicit KuaiRec(std::string_view dataset) : Strategy(std::string(dataset), kProfile, kItem, kHistory) {}

  void history_features(const SceneView& v, const HistoryInput& h, Fields& f) const override {
    f.add("operation", py_str(member(h.behavior, "operation")));
    f.add("time_diff", time_diff(v.target_us, h.timestamp_us));
  }

  bool has_time_filter() const override { return true; }
  std::optional<int64_t> release_time(const nlohmann::json&, const nlohmann::json& features) const override {
    const auto& t = member(features, "upload_dt");
    if (!t.is_number()) return std::nullopt;
    double s = t.get<double>();
    if (!std::isfinite(s)) return std::nullopt;
    return static_cast<int64_t>(std::llround(s * static_cast<double>(util::kMicrosPerSecond)));
  }
};

}  // namespace

std::unique_ptr<Strategy> kuairec(std::string_view dataset, const data::ReaderEntry& /*row*/) {
  return std::make_unique<KuaiRec>(dataset);
}

}  // namespace um::scene::strategies
