// data::PandasRecordReader against Debian's python3-pandas (read_csv, sep="\t") on a file with every
// case of pandas' quoting rule: "" inside quotes, text after the closing quote, a quote inside an
// unquoted field, a quoted field spanning lines and holding a TAB, blank lines, CRLF and a bare CR.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/shared_data.h"
#include "data/csv.h"
#include "util/error.h"

namespace um::data {
namespace {

TEST(PandasRecordReader, AgreesWithPandas) {
  if (std::system("/usr/bin/python3 -c 'import pandas' > /dev/null 2>&1") != 0) {
    if (um::testing::in_ci()) FAIL() << "/usr/bin/python3 with pandas (python3-pandas) is required";
    GTEST_SKIP() << "/usr/bin/python3 with pandas not available";
  }
  auto dir = um::testing::temp_dir("pandas-records");
  auto file = dir / "t.tsv";
  std::ofstream(file, std::ios::binary) << "a\t\"b \"\"q\"\" c\"\td\n"
                                           "\"x\" y\tz\"w\t\"multi\nline\"\n"
                                           "\n"
                                           "\t\t\n"
                                           "\"tab\tinside\"\tk\tl\r\n"
                                           "m\tn\to\rp\tq\tr\n";
  std::string cmd = "/usr/bin/python3 " +
                    (um::testing::source_dir() / "tests/oracles/pandas_tsv.py").string() + " raw '" +
                    file.string() + "'";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  ASSERT_EQ(pclose(p), 0);
  std::vector<nlohmann::json> want;
  std::istringstream lines(out);
  for (std::string l; std::getline(lines, l);) want.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(want.size(), 6u);

  PandasRecordReader in(file, '\t');
  std::vector<std::string_view> f;
  std::vector<int64_t> starts;
  for (const auto& row : want) {
    ASSERT_TRUE(in.next(f));
    starts.push_back(in.record_line());
    ASSERT_EQ(f.size(), row.size());
    for (size_t k = 0; k < f.size(); ++k) EXPECT_EQ(std::string(f[k]), row[k].get<std::string>());
  }
  EXPECT_FALSE(in.next(f));
  EXPECT_EQ(starts, (std::vector<int64_t>{1, 2, 5, 6, 7, 7}));  // the bare CR does not end a line

  std::ofstream(file, std::ios::binary) << "a\t\"open\n";
  PandasRecordReader bad(file, '\t');
  EXPECT_THROW(bad.next(f), util::Error);
}

}  // namespace
}  // namespace um::data
