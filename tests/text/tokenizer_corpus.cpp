#include "tokenizer_corpus.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_set>

#include "util/line_reader.h"
#include "util/utf8.h"

namespace um::testing {

namespace {

namespace fs = std::filesystem;

std::vector<std::string> split(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  size_t prev = 0, pos = 0;
  while ((pos = s.find(sep, prev)) != std::string_view::npos) {
    out.emplace_back(s.substr(prev, pos - prev));
    prev = pos + sep.size();
  }
  out.emplace_back(s.substr(prev));
  return out;
}

// RFC 4180 fields of one record; reads further lines while a quoted field is open.
std::vector<std::string> csv_record(util::LineReader& in, std::string& raw, bool& ok) {
  raw.clear();
  ok = in.next_raw(raw);
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; ok; ++i) {
    if (i >= raw.size()) {
      if (!quoted) break;
      ok = in.next_raw(raw);  // appends the next physical line
      if (!ok) break;
      --i;
      continue;
    }
    char c = raw[i];
    if (quoted) {
      if (c == '"' && i + 1 < raw.size() && raw[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\n' && c != '\r') {
      fields.back().push_back(c);
    }
  }
  ok = ok || fields.size() > 1 || !fields[0].empty();
  return fields;
}

void add(std::vector<std::string>& out, std::string s) {
  if (!s.empty()) out.push_back(std::move(s));
}

}  // namespace

std::vector<std::string> tokenizer_corpus(const fs::path& data) {
  std::vector<std::string> out;
  std::string_view line;
  {
    util::LineReader in(data / "ml-100k" / "u.item");
    while (in.next(line)) {
      auto f = split(line, "|");
      if (f.size() > 1) add(out, util::latin1_to_utf8(f[1]));
    }
  }
  {
    util::LineReader in(data / "ml-1m" / "movies.dat");
    while (in.next(line)) {
      auto f = split(line, "::");
      if (f.size() > 2) {
        add(out, util::latin1_to_utf8(f[1]));
        add(out, util::latin1_to_utf8(f[2]));
      }
    }
  }
  {
    util::LineReader in(data / "ml-latest-small" / "movies.csv");
    std::string raw;
    bool ok = true;
    csv_record(in, raw, ok);  // header
    while (true) {
      auto f = csv_record(in, raw, ok);
      if (!ok) break;
      if (f.size() > 2) {
        add(out, f[1]);
        add(out, f[2]);
      }
    }
  }
  {
    util::LineReader in(data / "amazon-2018-Magazine_Subscriptions" / "Magazine_Subscriptions_5.json.gz");
    while (in.next(line)) {
      auto j = nlohmann::json::parse(line);
      for (const char* k : {"reviewText", "summary"}) {
        if (j.contains(k) && j[k].is_string()) add(out, j[k].get<std::string>());
      }
    }
  }
  {
    util::LineReader in(data / "amazon-2018-Magazine_Subscriptions" / "meta_Magazine_Subscriptions.json.gz");
    // Titles of every product; HTML descriptions of every 8th (they are long and repetitive).
    for (int64_t n = 0; in.next(line); ++n) {
      auto j = nlohmann::json::parse(line);
      if (j.contains("title") && j["title"].is_string()) add(out, j["title"].get<std::string>());
      if (n % 8 == 0 && j.contains("description") && j["description"].is_array()) {
        for (const auto& d : j["description"]) {
          if (d.is_string()) add(out, d.get<std::string>());
        }
      }
    }
  }
  {
    util::LineReader in(data / "mind" / "MINDsmall_train" / "news.tsv");
    for (int64_t n = 0; in.next(line); ++n) {
      auto f = split(line, "\t");
      if (f.size() > 4) {
        add(out, f[3]);
        if (n % 4 == 0) add(out, f[4]);  // abstracts of every 4th article
      }
    }
  }
  {
    util::LineReader in(data / "kuairec" / "kuairec_caption_category.csv");
    std::string raw;
    bool ok = true;
    csv_record(in, raw, ok);
    while (true) {
      auto f = csv_record(in, raw, ok);
      if (!ok) break;
      for (size_t k : {size_t{1}, size_t{2}, size_t{3}, size_t{5}}) {
        if (k < f.size() && f[k] != "UNKNOWN") add(out, f[k]);
      }
    }
  }
  {
    util::LineReader in(data / "hetrec2011-lastfm-2k" / "tags.dat");
    in.next(line);  // header
    while (in.next(line)) {
      auto f = split(line, "\t");
      if (f.size() > 1) add(out, util::latin1_to_utf8(f[1]));
    }
  }
  for (auto& s : adversarial_strings()) out.push_back(std::move(s));
  // Genres and category names repeat thousands of times; keep the first occurrence of each text.
  std::unordered_set<std::string> seen;
  std::vector<std::string> unique;
  for (auto& s : out) {
    if (seen.insert(s).second) unique.push_back(std::move(s));
  }
  return unique;
}

std::vector<std::string> adversarial_strings() {
  std::vector<std::string> v = {
      " ",
      "  ",
      "\n",
      "a",
      "A",
      " A",
      "Hello world",
      "  leading and trailing  ",
      std::string(300, ' ') + "x" + std::string(300, ' '),
      std::string(5000, ' '),
      std::string(2000, '\n'),
      "tabs\t\t\tand\t \t mixed \u00a0 nbsp \u3000 ideographic",
      "line1\r\nline2\r\n\r\nline3\n\n\nline4\r",
      "a\r\n\r\n  \r\n b",
      "1234567890 12 123 1234 12345 123456 3.14159 1,000,000 2024-01-02",
      std::string(1000, '7'),
      "\u0661\u0662\u0663 \u0967\u0968 \uff11\uff12\uff13 \u00b2\u00bd",
      "don't won't I'm you're we've they'll she'd it's",
      "DON'T WON'T I'M YOU'RE WE'VE THEY'LL SHE'D IT'S I'LL",
      "'s 't 're 've 'm 'll 'd 'S 'T 'Re 'LL",
      "rock'n'roll o'clock ''quoted'' '''",
      "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
      "<|im_start",
      "<|im_start|",
      "im_start|>",
      "<|eot_id|>",
      "<|eot_id",
      "text<|eot_id|>more<|start_header_id|>user<|end_header_id|>\n\nx",
      "<|begin_of_text|><|begin_of_text|>",
      "<|endoftext|>",
      "<||>",
      "<|reserved_special_token_5|> <|reserved_special_token_250|>",
      "<think>\nreasoning\n</think>\n\nanswer",
      "<tool_call>{\"a\": 1}</tool_call>",
      "<<|im_end|>>",
      "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 family",
      "\U0001F3F3\uFE0F\u200D\U0001F308 \U0001F44D\U0001F3FD \U0001F1FA\U0001F1F8",
      "emoji\U0001F600\U0001F601\U0001F602!!!",
      "e\u0301 (e + combining acute) vs \u00e9",
      "A\u030A \u212B \u2126 \u1E9B\u0323",
      "\u1100\u1161\u11A8 hangul jamo vs \uac01",
      "o\u0308\u0304 stacked marks a\u0327\u0301",
      "\u0915\u094d\u0937 devanagari \u0646\u0633\u062a\u0639\u0644\u064a\u064a\u0642 arabic",
      "\u4e2d\u6587\u548cEnglish\u6df7\u5408\u3002\uff01\uff1f",
      "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 \ud55c\uad6d\uc5b4",
      "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00dcber stra\u00dfe",
      "<div class=\"x\">Hello &amp; welcome<br/></div>",
      "http://example.com/path?query=1&b=2#frag",
      "email@example.com @user #hashtag $100 50% ~tilde `code`",
      "...!!!???,,,;;;:::---___===+++***",
      "\u201cSmart quotes\u201d \u2018single\u2019 \u2014 em dash \u2026",
      "zero\u200bwidth\u200cjoiner\u200dtest\ufeffbom",
      "\x01\x02\x03 control \x7f chars \x1b[0m",
      "invalid \xff byte",
      "truncated \xe2\x82 sequence",
      "\xc0\xaf overlong \xed\xa0\x80 surrogate \xf4\x90\x80\x80 too big",
      "\xf0\x9f\x98 cut emoji then ok \xf0\x9f\x98\x80",
      "lone continuation \x80\x80\x80 bytes",
      "\xe9t\xe9 latin1 bytes",
      "tail \xe2",
  };
  return v;
}

void write_corpus(const std::filesystem::path& path, const std::vector<std::string>& texts) {
  std::ofstream f(path, std::ios::binary);
  for (const auto& t : texts) f << t.size() << '\n' << t << '\n';
  if (!f) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace um::testing
