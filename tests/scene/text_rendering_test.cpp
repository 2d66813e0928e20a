// Python-str rendering, str.format templates and derived features against hand-computed strings.
#include <gtest/gtest.h>

#include "scene/features.h"
#include "scene/pystr.h"
#include "scene/template.h"
#include "util/error.h"
#include "util/time.h"

namespace um::scene {
namespace {

using nlohmann::json;

TEST(PyStr, Scalars) {
  EXPECT_EQ(py_str(json::parse("4.0")), "4.0");
  EXPECT_EQ(py_str(json::parse("4")), "4");
  EXPECT_EQ(py_str(json::parse("0.1")), "0.1");
  EXPECT_EQ(py_str(json::parse("1e-05")), "1e-05");
  EXPECT_EQ(py_str(json::parse("1e16")), "1e+16");
  EXPECT_EQ(py_str(json::parse("-2.5")), "-2.5");
  EXPECT_EQ(py_str(json::parse("null")), "None");
  EXPECT_EQ(py_str(json::parse("true")), "True");
  EXPECT_EQ(py_str(json::parse("false")), "False");
  EXPECT_EQ(py_str(json::parse("\"plain text\"")), "plain text");
}

TEST(PyStr, ListsAndDicts) {
  EXPECT_EQ(py_str(json::parse(R"(["comics, graphic", "fiction"])")), "['comics, graphic', 'fiction']");
  EXPECT_EQ(py_str(json::parse(R"(["it's", "say \"hi\"", "both ' and \""])")),
            R"(["it's", 'say "hi"', 'both \' and "'])");
  EXPECT_EQ(py_str(json::parse(R"([1, 2.0, null, true, []])")), "[1, 2.0, None, True, []]");
  EXPECT_EQ(py_str(json::parse(R"({"a": [1], "b": "x"})")), "{'a': [1], 'b': 'x'}");
  EXPECT_EQ(py_str(json::parse("[]")), "[]");
}

TEST(PyStr, ReprEscapes) {
  std::string s;
  append_py_repr_string(s, "a\\b\nc\td\re\x01 \x7f");
  EXPECT_EQ(s, "'a\\\\b\\nc\\td\\re\\x01 \\x7f'");
  s.clear();
  append_py_repr_string(s, "caf\xC3\xA9 \xE4\xB8\xAD");  // printable non-ASCII stays as is
  EXPECT_EQ(s, "'caf\xC3\xA9 \xE4\xB8\xAD'");
  s.clear();
  append_py_repr_string(s, "nb\xC2\xA0sp zw\xE2\x80\x8B");  // U+00A0 (Zs) and U+200B (Cf) are escaped
  EXPECT_EQ(s, "'nb\\xa0sp zw\\u200b'");
}

TEST(PyStr, Truthiness) {
  EXPECT_FALSE(py_truthy(json::parse("\"\"")));
  EXPECT_FALSE(py_truthy(json::parse("0")));
  EXPECT_FALSE(py_truthy(json::parse("0.0")));
  EXPECT_FALSE(py_truthy(json::parse("null")));
  EXPECT_FALSE(py_truthy(json::parse("[]")));
  EXPECT_TRUE(py_truthy(json::parse("\"x\"")));
  EXPECT_TRUE(py_truthy(json::parse("[0]")));
}

TEST(Template, BracesAndLookupOrder) {
  json base = json::parse(R"({"title": "Heat", "rating": 3})");
  Fields f(&base);
  f.add("rating", "overridden?");  // base wins over derived
  f.add("time_diff", "2 days ago");
  f.add("time_diff", "later value loses");
  Template t("{title} {{ Viewed {time_diff} }} {rating}\n");
  EXPECT_EQ(t.render(f), "Heat { Viewed 2 days ago } 3\n");
  EXPECT_EQ(Template("").render(f), "");
}

TEST(Template, MissingKeyIsAnErrorNamingTheKey) {
  json base = json::parse(R"({"title": "Heat"})");
  Fields f(&base);
  Template t("{title} - {genres}");
  try {
    t.render(f);
    FAIL() << "expected an error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().field, "genres");
    EXPECT_NE(std::string(e.what()).find("genres"), std::string::npos);
  }
  EXPECT_THROW(Template("{a"), util::Error);
  EXPECT_THROW(Template("a}"), util::Error);
  EXPECT_THROW(Template("{a:>5}"), util::Error);
}

TEST(TimeDiff, Units) {
  int64_t t = *util::parse_datetime("2000-06-01 12:00:00");
  auto ago = [&](int64_t seconds) { return time_diff(t, t - seconds * util::kMicrosPerSecond); };
  EXPECT_EQ(ago(0), "just now");
  EXPECT_EQ(ago(59), "just now");
  EXPECT_EQ(ago(-86400), "just now");  // reference after target
  EXPECT_EQ(ago(60), "1 minute ago");
  EXPECT_EQ(ago(119), "1 minute ago");
  EXPECT_EQ(ago(120), "2 minutes ago");
  EXPECT_EQ(ago(3599), "59 minutes ago");
  EXPECT_EQ(ago(3600), "1 hour ago");
  EXPECT_EQ(ago(2 * 3600), "2 hours ago");
  EXPECT_EQ(ago(86400), "1 day ago");
  EXPECT_EQ(ago(3 * 86400 + 5), "3 days ago");
  EXPECT_EQ(ago(29 * 86400), "29 days ago");
  EXPECT_EQ(ago(30 * 86400), "1 month ago");
  EXPECT_EQ(ago(364 * 86400), "12 months ago");
  EXPECT_EQ(ago(365 * 86400), "1 year ago");
  EXPECT_EQ(ago(3 * 365 * 86400), "3 years ago");
  EXPECT_EQ(time_diff(t, std::nullopt), "earlier");
  // sub-second parts truncate toward zero: 59.9 s is still "just now"
  EXPECT_EQ(time_diff(t, t - 59'900'000), "just now");
}

TEST(Truncate, WhitespaceSplit) {
  EXPECT_EQ(truncate_words("one two three", 3), "one two three");
  EXPECT_EQ(truncate_words("  one   two \n three ", 3), "  one   two \n three ");  // unchanged when it fits
  EXPECT_EQ(truncate_words("one  two\tthree four", 2), "one two...");
  EXPECT_EQ(truncate_words("a\xC2\xA0"
                           "b c",
                           3),
            "a\xC2\xA0"
            "b c");  // U+00A0 is whitespace for str.split
  EXPECT_EQ(truncate_words("a\xC2\xA0"
                           "b c",
                           2),
            "a b...");
  EXPECT_EQ(truncate_words("a\xC2\xA0"
                           "b c",
                           1),
            "a...");
  EXPECT_EQ(truncate_words("", 3), "");
}

TEST(Truncate, SingleSpaceSplitAsAmazon) {
  // "a  b c".split(' ') == ['a', '', 'b', 'c']: the empty word counts
  EXPECT_EQ(truncate_words("a  b c", 3, true), "a  b...");
  EXPECT_EQ(truncate_words("a  b c", 4, true), "a  b c");
  EXPECT_EQ(truncate_words("a\tb c", 1, true), "a\tb...");  // tabs do not split
}

TEST(Truncate, Values) {
  EXPECT_EQ(truncate_value(json(nullptr), 3), "None");
  EXPECT_EQ(truncate_value(json(""), 3), "");
  EXPECT_EQ(truncate_value(json("w1 w2 w3 w4"), 3), "w1 w2 w3...");
}

TEST(Dates, WholeDaysAndYears) {
  EXPECT_EQ(whole_days(86400LL * util::kMicrosPerSecond), 1);
  EXPECT_EQ(whole_days(86400LL * util::kMicrosPerSecond - 1), 0);
  EXPECT_EQ(whole_days(-1), -1);  // floor, as timedelta.days
  EXPECT_EQ(*year_start_us(json("1995")), *util::parse_datetime("1995-01-01 00:00:00"));
  EXPECT_EQ(*year_start_us(json(1995)), *util::parse_datetime("1995-01-01 00:00:00"));
  EXPECT_FALSE(year_start_us(json(nullptr)));
  EXPECT_FALSE(year_start_us(json("19x5")));
}

}  // namespace
}  // namespace um::scene
