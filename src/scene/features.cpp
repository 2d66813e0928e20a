#include "scene/features.h"

#include <charconv>
#include <vector>

#include "scene/pystr.h"
#include "util/time.h"
#include "util/utf8.h"

namespace um::scene {

std::string time_diff(int64_t target_us, std::optional<int64_t> ref_us) {
  if (!ref_us) return "earlier";
  // Python: int(timedelta.total_seconds()) truncates toward zero.
  int64_t seconds = (target_us - *ref_us) / util::kMicrosPerSecond;
  struct Unit {
    int64_t seconds;
    const char* name;
  };
  static constexpr Unit kUnits[] = {
      {365LL * 86400, "year"}, {30LL * 86400, "month"}, {86400, "day"}, {3600, "hour"}, {60, "minute"}};
  for (const auto& u : kUnits) {
    if (seconds >= u.seconds) {
      int64_t n = seconds / u.seconds;
      std::string s = std::to_string(n) + " " + u.name;
      if (n != 1) s += "s";
      return s + " ago";
    }
  }
  return "just now";
}

namespace {

// Python's str.isspace() code points (str.split() with no argument splits on runs of these).
bool py_space(uint32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

}  // namespace

std::string truncate_words(std::string_view text, size_t n, bool single_space) {
  std::vector<std::string_view> words;
  if (single_space) {
    size_t start = 0;
    while (true) {
      size_t sp = text.find(' ', start);
      if (sp == std::string_view::npos) {
        words.push_back(text.substr(start));
        break;
      }
      words.push_back(text.substr(start, sp - start));
      start = sp + 1;
      if (words.size() > n) break;
    }
  } else {
    size_t i = 0;
    size_t word_start = std::string_view::npos;
    while (i < text.size()) {
      uint32_t cp = 0;
      size_t len = util::decode_utf8(text, i, cp);
      if (len == 0) {
        cp = 0xFFFD;
        len = 1;
      }
      if (py_space(cp)) {
        if (word_start != std::string_view::npos) {
          words.push_back(text.substr(word_start, i - word_start));
          word_start = std::string_view::npos;
          if (words.size() > n) break;
        }
      } else if (word_start == std::string_view::npos) {
        word_start = i;
      }
      i += len;
    }
    if (word_start != std::string_view::npos && words.size() <= n) words.push_back(text.substr(word_start));
  }
  if (words.size() <= n) return std::string(text);
  std::string out;
  for (size_t w = 0; w < n; ++w) {
    if (w) out.push_back(' ');
    out.append(words[w]);
  }
  out += "...";
  return out;
}

std::string truncate_value(const nlohmann::json& v, size_t n, bool single_space) {
  if (!py_truthy(v)) return py_str(v);
  if (v.is_string()) return truncate_words(v.get_ref<const std::string&>(), n, single_space);
  return truncate_words(py_str(v), n, single_space);
}

int64_t whole_days(int64_t delta_us) {
  constexpr int64_t kDay = 86400LL * util::kMicrosPerSecond;
  int64_t q = delta_us / kDay;
  if (delta_us % kDay != 0 && delta_us < 0) --q;
  return q;
}

std::optional<int64_t> year_start_us(const nlohmann::json& year) {
  int64_t y = 0;
  if (year.is_string()) {
    const auto& s = year.get_ref<const std::string&>();
    auto r = std::from_chars(s.data(), s.data() + s.size(), y);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  } else if (year.is_number_integer()) {
    y = year.get<int64_t>();
  } else if (year.is_number_float()) {
    double d = year.get<double>();
    if (!(d >= 1 && d <= 9999)) return std::nullopt;
    y = static_cast<int64_t>(d);
  } else {
    return std::nullopt;
  }
  if (y < 1 || y > 9999) return std::nullopt;
  return util::days_from_civil(y, 1, 1) * 86400LL * util::kMicrosPerSecond;
}

const nlohmann::json& member(const nlohmann::json& obj, std::string_view key) {
  static const nlohmann::json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

}  // namespace um::scene
