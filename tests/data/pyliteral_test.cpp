// Python literal → JSON converter: hand-written cases, and every case (plus the real Steam games
// file) checked against Debian's /usr/bin/python3 ast.literal_eval as an independent oracle.
#include "data/readers/pyliteral.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/shared_data.h"
#include "util/line_reader.h"

namespace um::testing {
namespace {

using data::python_literal_to_json;

std::string conv(std::string_view s) {
  std::string out;
  auto err = python_literal_to_json(s, out);
  EXPECT_FALSE(err) << s << ": " << err.value_or("");
  return out;
}

bool fails(std::string_view s) {
  std::string out;
  return python_literal_to_json(s, out).has_value();
}

TEST(PyLiteral, Scalars) {
  EXPECT_EQ(conv("True"), "true");
  EXPECT_EQ(conv("False"), "false");
  EXPECT_EQ(conv("None"), "null");
  EXPECT_EQ(conv("4.99"), "4.99");
  EXPECT_EQ(conv("-3"), "-3");
  EXPECT_EQ(conv("+3"), "3");
  EXPECT_EQ(conv("10L"), "10");
  EXPECT_EQ(conv(".5"), "0.5");
  EXPECT_EQ(conv("5."), "5.0");
  EXPECT_EQ(conv("1e5"), "1e5");
  EXPECT_EQ(conv("1_000"), "1000");
  EXPECT_EQ(conv("007.5"), "7.5");
  EXPECT_EQ(conv("0"), "0");
  EXPECT_EQ(conv("true"), "true");  // strict JSON passes through
  EXPECT_EQ(conv("null"), "null");
}

TEST(PyLiteral, Strings) {
  EXPECT_EQ(conv("u'abc'"), "\"abc\"");
  EXPECT_EQ(conv("'it\\'s'"), "\"it's\"");
  EXPECT_EQ(conv("\"say \\\"hi\\\"\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(conv("'a\"b'"), "\"a\\\"b\"");
  EXPECT_EQ(conv("u'Caf\\xe9'"), "\"Caf\xC3\xA9\"");
  EXPECT_EQ(conv("u'\\u5f39'"), "\"\xE5\xBC\xB9\"");
  EXPECT_EQ(conv("u'\\U0001f600'"), "\"\xF0\x9F\x98\x80\"");
  EXPECT_EQ(conv("u'\\ud83d\\ude00'"), "\"\xF0\x9F\x98\x80\"");  // narrow-build surrogate pair
  EXPECT_EQ(conv("u'\\ud83d'"), "\"\xEF\xBF\xBD\"");             // lone surrogate → U+FFFD
  EXPECT_EQ(conv("u'\\ude00x'"), "\"\xEF\xBF\xBDx\"");
  EXPECT_EQ(conv("'a\\nb\\tc\\\\d'"), "\"a\\nb\\tc\\\\d\"");
  EXPECT_EQ(conv("'\\101\\0'"), "\"A\\u0000\"");   // octal escapes
  EXPECT_EQ(conv("'\\d'"), "\"\\\\d\"");           // unknown escape keeps its backslash
  EXPECT_EQ(conv("r'\\d\\''"), "\"\\\\d\\\\'\"");  // raw string
  EXPECT_EQ(conv("'ab' 'cd'"), "\"abcd\"");        // adjacent literals
  EXPECT_EQ(conv("'''tri'ple'''"), "\"tri'ple\"");
  EXPECT_EQ(conv("u'\xC3\xA9'"), "\"\xC3\xA9\"");  // raw UTF-8 bytes kept
  EXPECT_EQ(conv("b'x'"), "\"x\"");
}

TEST(PyLiteral, Containers) {
  EXPECT_EQ(conv("{u'a': [1, 2.5, (3, 4)], 'b': {}, 'c': []}"), "{\"a\":[1,2.5,[3,4]],\"b\":{},\"c\":[]}");
  EXPECT_EQ(conv("{1: 'x', None: 2, True: 3, 1.5: 4}"), "{\"1\":\"x\",\"None\":2,\"True\":3,\"1.5\":4}");
  EXPECT_EQ(conv("[1, 2, ]"), "[1,2]");
  EXPECT_EQ(conv("  { 'a' :\t1 }  "), "{\"a\":1}");
}

TEST(PyLiteral, Rejects) {
  for (const char* bad : {"", "{'a': 1", "{'a' 1}", "[1 2]", "'unterminated", "nan", "inf", "{[1]: 2}",
                          "'\\N{BULLET}'", "{'a': 1} x", "1e", "--1", "'\\x4'", "'a\nb'", "Truex", "set()"})
    EXPECT_TRUE(fails(bad)) << bad;
  std::string deep(300, '[');
  EXPECT_TRUE(fails(deep + std::string(300, ']')));
}

// Runs /usr/bin/python3 on `lines`: for each, json.dumps(ast.literal_eval(line)) or "ERROR".
std::vector<std::string> python_oracle(const std::vector<std::string>& lines) {
  auto dir = temp_dir("pyliteral");
  {
    std::ofstream in(dir / "in.txt", std::ios::binary);
    for (const auto& l : lines) in << l << '\n';
  }
  std::string cmd =
      "/usr/bin/python3 -c \"import ast,json,sys\n"
      "for l in open(sys.argv[1], encoding='utf-8'):\n"
      "  try: print(json.dumps(ast.literal_eval(l.rstrip('\\\\n'))))\n"
      "  except Exception: print('ERROR')\n\" " +
      (dir / "in.txt").string() + " > " + (dir / "out.txt").string();
  if (std::system(cmd.c_str()) != 0) return {};
  std::vector<std::string> out;
  std::ifstream o(dir / "out.txt");
  std::string line;
  while (std::getline(o, line)) out.push_back(line);
  return out;
}

void expect_same_as_python(const std::vector<std::string>& lines) {
  auto oracle = python_oracle(lines);
  if (oracle.empty()) GTEST_SKIP() << "/usr/bin/python3 not available";
  ASSERT_EQ(oracle.size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string ours;
    auto err = python_literal_to_json(lines[i], ours);
    if (oracle[i] == "ERROR") {
      EXPECT_TRUE(err) << "python rejects, we accept: " << lines[i];
      continue;
    }
    ASSERT_FALSE(err) << lines[i] << ": " << *err;
    EXPECT_EQ(nlohmann::json::parse(ours), nlohmann::json::parse(oracle[i])) << lines[i];
  }
}

TEST(PyLiteral, AgreesWithPythonOnHandCases) {
  expect_same_as_python({
      "{u'publisher': u'Kotoshiro', u'price': 4.99, u'early_access': False, u'id': u'761140'}",
      "{'a': u'Caf\\xe9 \\u5f39 \\U0001f600', 'b': [1, -2, 3.5e-3, None, True]}",
      "{'q': 'it\\'s \"x\"', 'r': \"d'q\", 's': 'tab\\there\\\\'}",
      "{'nested': {'l': [(1, 2), [], {}], 'e': ''}, 'z': 0.1}",
      "{'o': '\\101\\102', 'x': '\\x41', 'n': 12345678901234, 'f': 1e10}",
      "{'adj': 'a' 'b', 'raw': r'\\d'}",
      "[1, 2,]",
      "{'unterminated': 'x}",
  });
}

TEST(PyLiteral, AgreesWithPythonOnRealSteamGames) {
  UM_REQUIRE_SHARED(path, "data/steam-ucsd/steam_games.json.gz");
  util::LineReader in(path);
  std::vector<std::string> lines;
  std::string_view line;
  while (in.next(line) && lines.size() < 5000) lines.emplace_back(line);
  ASSERT_EQ(lines.size(), 5000u);
  expect_same_as_python(lines);
}

TEST(PyLiteral, AgreesWithPythonOnRealSteamBundles) {
  UM_REQUIRE_SHARED(path, "data/steam-ucsd/bundle_data.json.gz");
  util::LineReader in(path);
  std::vector<std::string> lines;
  std::string_view line;
  while (in.next(line)) lines.emplace_back(line);
  ASSERT_EQ(lines.size(), 615u);  // SOURCE.md: 615 bundles
  expect_same_as_python(lines);
}

}  // namespace
}  // namespace um::testing
