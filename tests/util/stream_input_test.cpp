// Inputs that cannot be mapped or sized — FIFOs (what bash's <(...) hands over), pipes on standard
// input ("-") — read the same bytes as regular files through LineReader, read_file and MappedFile.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/shared_data.h"
#include "util/error.h"
#include "util/line_reader.h"
#include "util/mapped_file.h"

namespace fs = std::filesystem;
using namespace um::util;

namespace {

std::string gzip_bytes(const fs::path& dir, const std::string& text) {
  const fs::path p = dir / "tmp.gz";
  gzFile g = gzopen(p.c_str(), "wb");
  gzwrite(g, text.data(), static_cast<unsigned>(text.size()));
  gzclose(g);
  std::ifstream f(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), {});
  fs::remove(p);
  return bytes;
}

// A FIFO at `path` whose writer thread writes `bytes` once a reader opens it.
class Fifo {
 public:
  Fifo(const fs::path& path, std::string bytes) : path_(path) {
    fs::remove(path_);
    EXPECT_EQ(::mkfifo(path_.c_str(), 0600), 0);
    writer_ = std::thread([p = path_, b = std::move(bytes)] {
      std::ofstream f(p, std::ios::binary);  // blocks until the reader opens the FIFO
      f << b;
    });
  }
  ~Fifo() { writer_.join(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  std::thread writer_;
};

// Standard input replaced by a pipe holding `bytes` (smaller than the pipe buffer) for the scope.
class StdinFrom {
 public:
  explicit StdinFrom(const std::string& bytes) {
    EXPECT_LT(bytes.size(), 60000u);
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    EXPECT_EQ(::write(fds[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    ::close(fds[1]);
    saved_ = ::dup(STDIN_FILENO);
    ::dup2(fds[0], STDIN_FILENO);
    ::close(fds[0]);
  }
  ~StdinFrom() {
    ::dup2(saved_, STDIN_FILENO);
    ::close(saved_);
  }

 private:
  int saved_ = -1;
};

std::vector<std::string> all_lines(const fs::path& p) {
  LineReader in(p);
  std::vector<std::string> out;
  std::string_view l;
  while (in.next(l)) out.emplace_back(l);
  return out;
}

const std::string kText = "first\r\nsecond\n\nlast without newline";
const std::vector<std::string> kLines = {"first", "second", "", "last without newline"};

}  // namespace

TEST(StreamInput, Classification) {
  const fs::path dir = um::testing::temp_dir("stream_kinds");
  std::ofstream(dir / "plain.txt") << "x";
  ::mkfifo((dir / "f.fifo").c_str(), 0600);
  EXPECT_TRUE(is_stdin_path("-"));
  EXPECT_FALSE(is_stdin_path(dir / "plain.txt"));
  EXPECT_TRUE(is_stream_input("-"));
  EXPECT_TRUE(is_stream_input(dir / "f.fifo"));
  EXPECT_TRUE(is_stream_input("/dev/null"));
  EXPECT_FALSE(is_stream_input(dir / "plain.txt"));
  EXPECT_FALSE(is_stream_input(dir));
  EXPECT_FALSE(is_stream_input(dir / "absent"));
}

TEST(StreamInput, LineReaderReadsFifosPlainAndGzip) {
  const fs::path dir = um::testing::temp_dir("stream_lines");
  {
    Fifo fifo(dir / "plain.fifo", kText);
    LineReader in(fifo.path());
    EXPECT_EQ(in.file_size(), 0u);  // unknown for a stream
    std::vector<std::string> lines;
    std::string_view l;
    while (in.next(l)) lines.emplace_back(l);
    EXPECT_EQ(lines, kLines);
    EXPECT_EQ(in.line_number(), 4);
  }
  {
    Fifo fifo(dir / "gz.fifo", gzip_bytes(dir, kText));
    EXPECT_EQ(all_lines(fifo.path()), kLines);
  }
  {
    Fifo fifo(dir / "whole.fifo", kText);
    EXPECT_EQ(read_file(fifo.path()), kText);
  }
}

TEST(StreamInput, DashReadsStandardInput) {
  const fs::path dir = um::testing::temp_dir("stream_stdin");
  {
    StdinFrom in(kText);
    EXPECT_EQ(all_lines("-"), kLines);
  }
  {
    StdinFrom in(gzip_bytes(dir, kText));
    EXPECT_EQ(read_file("-"), kText);
  }
  {
    StdinFrom in(kText);
    MappedFile m("-");
    EXPECT_EQ(m.view(), kText);
    m.release(0, m.size());  // a no-op for streams
    EXPECT_EQ(m.view(), kText);
  }
}

TEST(StreamInput, MappedFileReadsFifosIntoMemory) {
  const fs::path dir = um::testing::temp_dir("stream_map");
  std::string big;
  for (int i = 0; i < 50000; ++i) big += "row " + std::to_string(i) + "\n";  // several pipe buffers
  Fifo fifo(dir / "big.fifo", big);
  MappedFile m(fifo.path());
  EXPECT_EQ(m.size(), big.size());
  EXPECT_EQ(m.view(), big);
}

TEST(StreamInput, DirectoriesAndMissingFilesStillFail) {
  const fs::path dir = um::testing::temp_dir("stream_errors");
  EXPECT_THROW(LineReader{dir}, Error);
  EXPECT_THROW(MappedFile{dir}, Error);
  EXPECT_THROW(LineReader{dir / "absent.txt"}, Error);
  EXPECT_THROW(MappedFile{dir / "absent.txt"}, Error);
}
