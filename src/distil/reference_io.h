#pragma once
// Readers and writers for the reference's stage files (docs/method.md §3.5, §6, §7 step 6), so our
// stages and the authors' scripts can consume each other's outputs. Field names: reference_fields.h.
//
//   LineParser parser;
//   ProbsRecord probs;
//   parse_probs(parser, line, probs, kAllDecisions, {.file = path, .line = n});
//
// Parsing throws util::Error with the file, line and field of the first problem. A parser is not
// thread-safe; use one per thread.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "distil/option_probs.h"
#include "scene/scene_record.h"
#include "text/prompt.h"
#include "util/error.h"
#include "util/json_line.h"
#include "util/json_writer.h"

namespace um::distil {

// The scene record and the JSON line parser are scene's and util's (scene/scene_record.h,
// util/json_line.h); distil code names them as before.
using LineParser = util::JsonLineParser;
using scene::parse_scene;
using scene::SceneRecord;
using scene::write_scene;
using util::JsonLine;
using util::kJsonPadding;
using util::pad_line;

// One line of probs/<DS>_probs_<variant>.jsonl (§7 step 6).
struct ProbsRecord {
  std::string user_id;
  std::string item_id;
  std::vector<std::string> decision_list;  // texts of the wanted decisions (see parse_probs)
  size_t n_decisions = 0;                  // length of decision_list (always set)
  bool has_choice = false;                 // false when "choice" is null or absent
  std::vector<LetterProbs> choice;         // aligned with decision_list
  // With want == 0: where each decision's JSON string (quotes and escapes as written) lies in the
  // parsed line, so its text can be decoded later from the same bytes (parse_string_token).
  struct Span {
    uint32_t offset = 0;
    uint32_t size = 0;
  };
  std::vector<Span> decision_tokens;
};
// Letters must be single upper-case A..Z keys with finite non-negative values; when choice is
// present its length must equal decision_list's.
// Decision texts are kept for the indices j < 64 whose bit is set in `want` (others stay empty;
// kAllDecisions keeps all); with want == 0 they are only located (decision_tokens), not decoded,
// which is much faster.
inline constexpr uint64_t kAllDecisions = ~uint64_t{0};
void parse_probs(LineParser& parser, const JsonLine& line, ProbsRecord& out, uint64_t want,
                 const util::Location& where);
// Decodes one JSON string token (e.g. a decision_tokens span of a probs line; a span inside a padded
// line may be passed as padded). The result lies in the parser's buffers: valid until its next use.
std::string_view parse_string_token(LineParser& parser, const JsonLine& token, const util::Location& where);
// Writes user_id, item_id, decision_list, choice (letters in order, only present ones) or null.
void write_probs(util::JsonWriter& w, const ProbsRecord& r);

// One line of decisions/<DS>_decisions_<variant>.jsonl (OpenAI batch output, §6).
struct DecisionsRecord {
  std::string custom_id;              // "<dataset>-<r>"
  int64_t row = -1;                   // r: the integer after the last '-'
  std::vector<std::string> contents;  // choices[*].message.content, raw
  bool ok = false;  // false when the response is missing or malformed (the reference: empty list)
};
void parse_decisions(LineParser& parser, const JsonLine& line, DecisionsRecord& out,
                     const util::Location& where);
// Writes {"id", "custom_id", "response": {"status_code": 200, "request_id", "body":
// {"object": "chat.completion", "model", "choices": [...]}}, "error": null}.
void write_decisions(util::JsonWriter& w, std::string_view custom_id, std::string_view model,
                     const std::vector<std::string>& contents);

// The rationale as used downstream (§7 step 1, §11 item 18): the text before the first "Behavior:",
// stripped as Python's str.strip() does (text::rationale_of).
std::string cut_rationale(std::string_view content);

}  // namespace um::distil
