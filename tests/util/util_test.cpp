#include "util/util.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/shared_data.h"

using namespace um::util;

TEST(PythonFloatRepr, MatchesPythonRepr) {
  EXPECT_EQ(python_float_repr(4.0), "4.0");
  EXPECT_EQ(python_float_repr(0.1), "0.1");
  EXPECT_EQ(python_float_repr(3.5), "3.5");
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(python_float_repr(0.00001), "1e-05");
  EXPECT_EQ(python_float_repr(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(python_float_repr(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(python_float_repr(100.0), "100.0");
  EXPECT_EQ(python_float_repr(-0.0), "-0.0");
}

TEST(PythonFloatRepr, MatchesPythonOnManyValues) {
  if (std::system("/usr/bin/python3 -c pass > /dev/null 2>&1") != 0) {
    if (um::testing::in_ci()) FAIL() << "/usr/bin/python3 is required under CI";
    GTEST_SKIP() << "/usr/bin/python3 not available";
  }
  // Random bit patterns (every exponent) and random mantissas at every decimal magnitude around the
  // positional/scientific switch, passed to Python exactly as hex floats.
  std::vector<double> values;
  Rng rng = Rng::stream(7, "test/python-float-repr", 0);
  while (values.size() < 3000) {
    const uint64_t bits = rng.next_u64();
    double v = 0;
    std::memcpy(&v, &bits, sizeof v);
    if (std::isfinite(v)) values.push_back(v);
  }
  for (int k = -25; k <= 25; ++k)
    for (int j = 0; j < 40; ++j) values.push_back((rng.uniform01() - 0.5) * std::pow(10.0, k));
  for (double v :
       {1e16, 9007199254740992.0, 123456789012345678.0, 0.0001, 0.00001, 5e-324, 1.7976931348623157e308})
    values.push_back(v);
  const auto dir = um::testing::temp_dir("python_float_repr");
  std::ofstream in(dir / "hex.txt");
  for (double v : values) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::hex);
    in << (std::signbit(v) ? "-" : "") << "0x" << std::string_view(buf, static_cast<size_t>(r.ptr - buf))
       << "\n";
  }
  in.close();
  const std::string cmd =
      "/usr/bin/python3 -c \"import sys\nfor l in open(sys.argv[1]): print(repr(float.fromhex(l)))\" " +
      (dir / "hex.txt").string() + " > " + (dir / "repr.txt").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream out(dir / "repr.txt");
  std::string want;
  for (double v : values) {
    ASSERT_TRUE(std::getline(out, want));
    EXPECT_EQ(python_float_repr(v), want) << want;
  }
}

TEST(JsonWriter, Utf8StringsMatchAnIndependentEncoder) {
  // nlohmann::json's dump (UTF-8 kept, \uXXXX for other control bytes) is the oracle. Specials sit at
  // every offset around the 16-byte blocks of the vectorised scan.
  std::vector<std::string> cases;
  std::string ascii;
  for (int c = 0; c < 128; ++c) ascii.push_back(static_cast<char>(c));
  cases.push_back(ascii);
  const std::vector<std::string> specials = {
      "\"", "\\", "\n", "\x01", "\x1f", "\x7f", "\xC3\xA9", "\xF0\x9F\x98\x80", std::string(1, '\0')};
  for (const std::string& special : specials)
    for (size_t len : {40, 100})  // short strings and long ones (validated up front)
      for (size_t at = 0; at < len; ++at)
        cases.push_back(std::string(at, 'a') + special + std::string(len - at, 'b'));
  for (const auto& s : cases) {
    std::string got;
    append_json_string(got, s, false);
    EXPECT_EQ(got, nlohmann::json(s).dump()) << s;
  }
  // Invalid UTF-8 bytes become U+FFFD, in short and long strings.
  for (const std::string& pad : {std::string(), std::string(100, 'z')}) {
    std::string got;
    append_json_string(got, "abcdefghijklmnopqrstuvwxyz \xFF \"" + pad, false);
    EXPECT_EQ(got, "\"abcdefghijklmnopqrstuvwxyz \xEF\xBF\xBD \\\"" + pad + "\"");
  }
}

TEST(JsonWriter, EscapesLikePythonEnsureAscii) {
  JsonWriter w(true);
  w.begin_object();
  w.key("t");
  w.value(std::string_view("caf\xC3\xA9 \"q\" \n \xF0\x9F\x98\x80"));
  w.key("n");
  w.value(4.0);
  w.key("l");
  w.begin_array();
  w.value(int64_t{1});
  w.null();
  w.end_array();
  w.end_object();
  EXPECT_EQ(w.str(), R"({"t":"caf\u00e9 \"q\" \n \ud83d\ude00","n":4.0,"l":[1,null]})");
}

TEST(JsonWriter, BothModesMatchPythonJsonDumps) {
  if (std::system("/usr/bin/python3 -c pass > /dev/null 2>&1") != 0) {
    if (um::testing::in_ci()) FAIL() << "/usr/bin/python3 is required under CI";
    GTEST_SKIP() << "/usr/bin/python3 not available";
  }
  // Every ASCII byte (DEL included: Python escapes it with ensure_ascii only), multi-byte characters
  // and specials at every offset around the 16-byte blocks of the vectorised scans, short and long.
  std::vector<std::string> cases;
  std::string ascii;
  for (int c = 0; c < 128; ++c) ascii.push_back(static_cast<char>(c));
  cases.push_back(ascii);
  for (const std::string special : {"\x7f", "\"", "\x01", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"})
    for (size_t len : {20, 90})
      for (size_t at = 0; at < len; at += 3)
        cases.push_back(std::string(at, 'a') + special + std::string(len - at, 'b'));
  const auto dir = um::testing::temp_dir("json_dumps");
  {
    std::ofstream in(dir / "hex.txt");
    static const char* hex = "0123456789abcdef";
    for (const auto& c : cases) {
      for (unsigned char b : c) in << hex[b >> 4] << hex[b & 15];
      in << "\n";
    }
  }
  const std::string cmd =
      "/usr/bin/python3 -c \"import sys, json\nfor l in open(sys.argv[1]):\n s = "
      "bytes.fromhex(l.strip()).decode()\n for a in (True, False): "
      "sys.stdout.buffer.write(json.dumps(s, ensure_ascii=a).encode() + b'\\n')\" " +
      (dir / "hex.txt").string() + " > " + (dir / "dumps.txt").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream out(dir / "dumps.txt", std::ios::binary);
  std::string want_ascii, want_utf8;
  for (const auto& c : cases) {
    ASSERT_TRUE(std::getline(out, want_ascii));
    ASSERT_TRUE(std::getline(out, want_utf8));
    std::string got;
    append_json_string(got, c, true);
    EXPECT_EQ(got, want_ascii);
    got.clear();
    append_json_string(got, c, false);
    EXPECT_EQ(got, want_utf8);
  }
}

TEST(Utf8, Latin1AndValidation) {
  EXPECT_EQ(latin1_to_utf8("Caf\xE9"), "Caf\xC3\xA9");
  size_t bad = 0;
  EXPECT_FALSE(is_valid_utf8("ab\xC3", &bad));
  EXPECT_EQ(bad, 2u);
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));      // overlong
  EXPECT_TRUE(is_valid_utf8("\xE4\xB8\xAD\xF0\x9F\x98\x80"));
}

TEST(Time, EpochMillisecondsRoundDown) {
  static_assert(epoch_ms_from_us(1999) == 1);
  static_assert(epoch_ms_from_us(2000) == 2);
  static_assert(epoch_ms_from_us(-1) == -1);
  static_assert(epoch_ms_from_us(-1000) == -1);
  static_assert(epoch_ms_from_us(-1001) == -2);
  EXPECT_EQ(epoch_ms_from_us(978300000123456), 978300000123);
}

TEST(Time, RoundTripsUtc) {
  auto t = parse_datetime("2000-12-31 22:12:40");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, int64_t{978300760} * 1000000);
  EXPECT_EQ(format_datetime(*t), "2000-12-31 22:12:40");
  auto f = parse_datetime("2018-01-02 03:04:05.123456");
  ASSERT_TRUE(f);
  EXPECT_EQ(format_datetime(*f), "2018-01-02 03:04:05.123456");
  EXPECT_EQ(parse_datetime("1970-01-01").value(), 0);
  EXPECT_FALSE(parse_datetime("2018-13-01"));
  EXPECT_FALSE(parse_datetime("garbage"));
  EXPECT_EQ(format_datetime(-1000000), "1969-12-31 23:59:59");
}

TEST(Rng, StreamsAreDeterministicAndIndependent) {
  Rng a = Rng::stream(7, "stage", 3), b = Rng::stream(7, "stage", 3), c = Rng::stream(7, "stage", 4);
  uint64_t x = a.next_u64();
  EXPECT_EQ(x, b.next_u64());
  EXPECT_NE(x, c.next_u64());
  Rng r(1);
  std::vector<int> counts(5, 0);
  for (int i = 0; i < 50000; ++i) {
    int64_t v = r.uniform_int(2, 6);
    ASSERT_GE(v, 2);
    ASSERT_LE(v, 6);
    counts[static_cast<size_t>(v - 2)]++;
  }
  for (int c2 : counts) EXPECT_NEAR(c2, 10000, 500);
}

TEST(LineReader, HandlesCrlfGzipAndMissingNewline) {
  auto dir = um::testing::temp_dir("lines");
  {
    std::ofstream f(dir / "a.txt", std::ios::binary);
    f << "one\r\ntwo\n\nlast";
  }
  {
    gzFile g = gzopen((dir / "b.gz").c_str(), "wb");
    std::string s;
    for (int i = 0; i < 100000; ++i) s += "line " + std::to_string(i) + "\n";
    gzwrite(g, s.data(), static_cast<unsigned>(s.size()));
    gzclose(g);
  }
  LineReader a(dir / "a.txt");
  std::vector<std::string> lines;
  std::string_view l;
  while (a.next(l)) lines.emplace_back(l);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "", "last"}));
  LineReader b(dir / "b.gz", 4096);
  int64_t n = 0;
  while (b.next(l)) {
    ASSERT_EQ(l, "line " + std::to_string(n));
    ++n;
  }
  EXPECT_EQ(n, 100000);
  EXPECT_EQ(b.line_number(), 100000);
}

TEST(LineReader, TruncatedGzipIsAnError) {
  auto dir = um::testing::temp_dir("trunc");
  std::string s;
  for (int i = 0; i < 20000; ++i) s += "payload line " + std::to_string(i * 7919) + "\n";
  {
    gzFile g = gzopen((dir / "t.gz").c_str(), "wb");
    gzwrite(g, s.data(), static_cast<unsigned>(s.size()));
    gzclose(g);
  }
  auto size = std::filesystem::file_size(dir / "t.gz");
  std::filesystem::resize_file(dir / "t.gz", size / 2);
  LineReader r(dir / "t.gz");
  std::string_view l;
  EXPECT_THROW(
      {
        while (r.next(l)) {
        }
      },
      Error);
}

TEST(AtomicWriter, LeavesNothingWithoutCommit) {
  auto dir = um::testing::temp_dir("atomic");
  {
    AtomicWriter w(dir / "out.jsonl");
    w.write("partial");
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "out.jsonl"));
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  {
    AtomicWriter w(dir / "out.jsonl");
    w.write("done\n");
    w.commit();
  }
  EXPECT_EQ(read_file(dir / "out.jsonl"), "done\n");
}

TEST(AtomicWriter, WritePartsKeepsOrderWithBufferedWrites) {
  auto dir = um::testing::temp_dir("atomic_parts");
  std::vector<std::string> parts;
  std::string expect = "head|";
  for (int i = 0; i < 2500; ++i) {  // more parts than one writev takes; some empty
    parts.push_back(i % 7 == 0 ? std::string()
                               : std::to_string(i) + std::string(static_cast<size_t>(i % 13), 'x'));
    expect += parts.back();
  }
  expect += "|tail";
  const std::vector<std::string_view> views(parts.begin(), parts.end());
  AtomicWriter w(dir / "out.txt");
  w.write("head|");
  w.write_parts(views);
  w.write("|tail");
  w.commit();
  EXPECT_EQ(read_file(dir / "out.txt"), expect);
  EXPECT_EQ(w.bytes_written(), expect.size());
}

TEST(MappedFile, ViewsTheBytesAndReleasedPagesReadBackTheSame) {
  auto dir = um::testing::temp_dir("mapped");
  std::string content;
  for (int i = 0; i < 5000; ++i) content += "line " + std::to_string(i) + "\n";  // several pages
  write_file_atomic(dir / "f.txt", content);
  MappedFile f(dir / "f.txt");
  EXPECT_EQ(f.size(), content.size());
  EXPECT_EQ(f.view(), content);
  f.release(0, f.size() / 2);
  f.release(100, 50);  // an empty range is fine
  EXPECT_EQ(f.view(), content);
  write_file_atomic(dir / "empty.txt", "");
  MappedFile e(dir / "empty.txt");
  EXPECT_TRUE(e.view().empty());
  EXPECT_THROW(MappedFile(dir / "missing.txt"), Error);
}

TEST(Error, FormatsLocation) {
  Error e("not a number", {.file = "r.csv", .line = 12, .field = "rating"});
  EXPECT_STREQ(e.what(), "r.csv:12: field 'rating': not a number");
}

TEST(ParallelFor, CoversEveryIndexOnceAndRethrows) {
  std::vector<int> hits(10007, 0);
  parallel_for(hits.size(), 4, [&](size_t i) { hits[i]++; });
  for (int h : hits) ASSERT_EQ(h, 1);
  EXPECT_THROW(parallel_for(100, 2,
                            [](size_t i) {
                              if (i == 50) throw Error("boom");
                            }),
               Error);
}
