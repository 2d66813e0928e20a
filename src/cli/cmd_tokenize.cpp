// `usermirror tokenize --tokenizer DIR [--input FILE] [--add-special-tokens] [--threads N]`
// Input (stdin, or --input FILE: a file, a FIFO, `<(...)`): JSON Lines, each a JSON string;
// stdout: one JSON array of token ids per line, in order.
#ifdef UM_HAVE_TEXT
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/command_registry.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace um::cli {

struct TokenizeOptions {
  std::string tokenizer;
  std::string input = "-";  // "-" = standard input
  bool add_special_tokens = false;
  unsigned threads = 0;
};

int run_tokenize(const TokenizeOptions& opts, std::istream& in, std::ostream& out) {
  auto tok = text::Tokenizer::load(opts.tokenizer);
  text::encode_json_lines(tok, in, out, opts.add_special_tokens, opts.threads);
  return 0;
}

Command tokenize_command() {
  return {"tokenize", "Encode JSON-string lines from stdin into JSON arrays of token ids", [](CLI::App& app) {
            auto opts = std::make_shared<TokenizeOptions>();
            app.add_option("--tokenizer", opts->tokenizer,
                           "Model directory with tokenizer.json (or the file itself)")
                ->required();
            app.add_option("--input", opts->input, "JSON Lines to encode ('-' = standard input)")
                ->capture_default_str();
            app.add_flag("--add-special-tokens", opts->add_special_tokens,
                         "Apply the post-processor (e.g. BOS), as transformers' encode does");
            app.add_option("--threads", opts->threads, "Encoding threads (0 = all cores)");
            return [=] {
              if (opts->input == "-") return run_tokenize(*opts, std::cin, std::cout);
              std::ifstream in(opts->input, std::ios::binary);
              if (!in) {
                throw util::Error(std::string("cannot open for reading: ") + std::strerror(errno),
                                  {.file = opts->input});
              }
              return run_tokenize(*opts, in, std::cout);
            };
          }};
}

}  // namespace um::cli
#endif  // UM_HAVE_TEXT
