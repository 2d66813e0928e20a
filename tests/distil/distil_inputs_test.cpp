// distil's input readers (src/distil/distil_inputs.h): line splitting and offsets over plain and gzip
// files, buffer growth for lines longer than a read chunk, the mapped pass-2 view, and the errors that
// name the file at fault.
#include "distil/distil_inputs.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/shared_data.h"
#include "distil/work_layout.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace um::distil {
namespace {

namespace fs = std::filesystem;

void write_gzip(const fs::path& p, const std::string& bytes) {
  gzFile gz = gzopen(p.string().c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(gz), Z_OK);
}

struct Line {
  std::string text;
  uint64_t offset;
  bool operator==(const Line&) const = default;
};

// Every line of `path`, read `max` lines per batch.
std::vector<Line> read_all(const fs::path& path, size_t max, bool* compressed = nullptr) {
  LineBatches lines(path);
  if (compressed) *compressed = lines.compressed();
  std::vector<Row> rows(max);
  std::vector<Line> out;
  while (const size_t n = lines.next(max, rows)) {
    EXPECT_LE(n, max);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_TRUE(rows[i].line.padded);
      out.push_back({std::string(rows[i].line.text), rows[i].offset});
    }
  }
  EXPECT_EQ(lines.line_number(), static_cast<int64_t>(out.size()));
  return out;
}

TEST(DistilInputs, LinesDropCrKeepEmptyLinesAndTheLastLineNeedsNoNewline) {
  const fs::path dir = um::testing::temp_dir("distil_inputs_lines");
  const std::string bytes = "{\"a\":1}\r\nbb\n\nccc\r\n\nlast";
  util::write_file_atomic(dir / "plain.jsonl", bytes);
  const std::vector<Line> want = {{"{\"a\":1}", 0}, {"bb", 9}, {"", 12}, {"ccc", 13}, {"", 18}, {"last", 19}};
  for (size_t max : {1, 2, 4, 256}) {
    bool compressed = true;
    EXPECT_EQ(read_all(dir / "plain.jsonl", max, &compressed), want) << max;
    EXPECT_FALSE(compressed);
  }
  // gzip: the same lines; offsets count decompressed bytes.
  write_gzip(dir / "packed.jsonl", bytes);
  bool compressed = false;
  EXPECT_EQ(read_all(dir / "packed.jsonl", 2, &compressed), want);
  EXPECT_TRUE(compressed);
}

TEST(DistilInputs, LinesLongerThanAReadChunkAndOffsetsAcrossRefills) {
  const fs::path dir = um::testing::temp_dir("distil_inputs_long");
  // Lines of 700,000 and 300,000 bytes (a read chunk is 256 KiB), between short ones.
  const std::string a(700000, 'a'), b(300000, 'b');
  const std::string bytes = "x\n" + a + "\n" + "yy\n" + b + "\nz\n";
  util::write_file_atomic(dir / "long.jsonl", bytes);
  const std::vector<Line> want = {{"x", 0}, {a, 2}, {"yy", 700003}, {b, 700006}, {"z", 1000007}};
  EXPECT_EQ(read_all(dir / "long.jsonl", 1, nullptr), want);
  EXPECT_EQ(read_all(dir / "long.jsonl", 3, nullptr), want);
  write_gzip(dir / "long.gz.jsonl", bytes);
  EXPECT_EQ(read_all(dir / "long.gz.jsonl", 2, nullptr), want);
}

TEST(DistilInputs, MissingOrUnreadableFileIsAnErrorNamingIt) {
  const fs::path dir = um::testing::temp_dir("distil_inputs_missing");
  try {
    LineBatches lines(dir / "absent.jsonl");
    FAIL() << "no error";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.jsonl: cannot open: "), std::string::npos) << e.what();
  }
}

TEST(DistilInputs, MappedLinesArePaddedInPlaceOrCopiedNearTheEnd) {
  const fs::path dir = um::testing::temp_dir("distil_inputs_mapped");
  const std::string head = "{\"k\":\"early\"}\n";
  const std::string bytes = head + std::string(200, ' ') + "\n{\"k\":\"late\"}";
  util::write_file_atomic(dir / "m.jsonl", bytes);
  MappedInput m(dir / "m.jsonl");
  std::string copy;
  // Far from the end: parsed where it lies (the file's next bytes serve as padding).
  const JsonLine early = m.line(0, head.size() - 1, copy);
  EXPECT_EQ(early.text, "{\"k\":\"early\"}");
  EXPECT_TRUE(early.padded);
  EXPECT_TRUE(copy.empty());
  // The last line: fewer than kJsonPadding bytes follow it, so it is copied into `copy`.
  const uint64_t at = bytes.size() - 12;
  const JsonLine late = m.line(at, 12, copy);
  EXPECT_EQ(late.text, "{\"k\":\"late\"}");
  EXPECT_TRUE(late.padded);
  EXPECT_EQ(copy.size(), 12 + kJsonPadding);
  EXPECT_EQ(late.text.data(), copy.data());
  m.release_before(head.size());
  EXPECT_EQ(m.bytes(at, 12), "{\"k\":\"late\"}");
  try {
    m.bytes(at, 13);
    FAIL() << "no error";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "m.jsonl: input file changed during distil (shorter than in the first pass)"),
              std::string::npos)
        << e.what();
  }
}

// Writes a dataset's three inputs with the given line counts.
void write_aligned(const fs::path& work, const std::string& ds, int train, int strong, int weak) {
  fs::create_directories(work / "datasets");
  fs::create_directories(work / "probs");
  auto lines = [](int n, char c) {
    std::string s;
    for (int i = 0; i < n; ++i) s += std::string("{\"") + c + "\":" + std::to_string(i) + "}\n";
    return s;
  };
  util::write_file_atomic(scenes_path(work, ds, "train"), lines(train, 't'));
  util::write_file_atomic(probs_path(work, ds, "strong"), lines(strong, 's'));
  util::write_file_atomic(probs_path(work, ds, "weak"), lines(weak, 'w'));
}

TEST(DistilInputs, AlignedFilesReadRowsInLockstepAndReadAgainInPass2) {
  const fs::path work = um::testing::temp_dir("distil_inputs_aligned");
  write_aligned(work, "ds", 300, 300, 300);
  AlignedFiles files(work, "ds");
  EXPECT_FALSE(files.any_compressed());
  std::vector<Row> rows[3];
  std::vector<size_t> batches;
  int64_t row = 0;
  while (const size_t n = files.next_batch(rows)) {
    batches.push_back(n);
    for (size_t i = 0; i < n; ++i, ++row) {
      EXPECT_EQ(rows[0][i].line.text, "{\"t\":" + std::to_string(row) + "}");
      EXPECT_EQ(rows[1][i].line.text, "{\"s\":" + std::to_string(row) + "}");
      EXPECT_EQ(rows[2][i].line.text, "{\"w\":" + std::to_string(row) + "}");
    }
  }
  EXPECT_EQ(batches, (std::vector<size_t>{kBatchLines, 300 - kBatchLines}));
  // Plain inputs: pass 2 maps them, and a row's offset from pass 1 finds its line.
  files.start_pass2();
  std::string copy;
  EXPECT_EQ(files.mapped(2).line(0, 7, copy).text, "{\"w\":0}");
}

TEST(DistilInputs, AlignedFilesNameTheMissingOrShorterFile) {
  const fs::path work = um::testing::temp_dir("distil_inputs_misaligned");
  try {
    AlignedFiles files(work, "none");
    FAIL() << "no error";
  } catch (const util::Error& e) {
    EXPECT_EQ(std::string(e.what()), scenes_path(work, "none", "train").string() + ": input file not found");
  }
  // The weak file ends first, inside the second batch: the error names it and its first missing line.
  write_aligned(work, "short", 300, 300, 290);
  AlignedFiles files(work, "short");
  std::vector<Row> rows[3];
  EXPECT_EQ(files.next_batch(rows), kBatchLines);
  try {
    files.next_batch(rows);
    FAIL() << "no error";
  } catch (const util::Error& e) {
    EXPECT_EQ(std::string(e.what()),
              probs_path(work, "short", "weak").string() +
                  ":291: file has fewer lines than the others (each line is one train scene, in order)");
  }
}

}  // namespace
}  // namespace um::distil
