#include "distil/reference_io.h"

#include <charconv>
#include <cmath>
#include <string>

#include "distil/reference_fields.h"
#include "util/json_line_access.h"

namespace um::distil {

namespace od = simdjson::ondemand;

namespace {

using namespace util::json_line;  // NOLINT(google-build-using-namespace): fail, check, get_*

void parse_letter_dict(od::value v, LetterProbs& d, const util::Location& where) {
  od::object obj;
  check(v.get_object().get(obj), where, fields::kChoice);
  d = LetterProbs{};
  for (auto field_or : obj) {
    od::field field;
    check(std::move(field_or).get(field), where, fields::kChoice);
    // Keys are read in place: a plain one-letter key is `X"` in the raw bytes; only keys written
    // with escapes are decoded.
    const char* raw = field.key().raw();
    char letter = raw[0];
    if (letter < 'A' || letter > 'Z' || raw[1] != '"') {
      std::string_view key;
      check(field.unescaped_key().get(key), where, fields::kChoice);
      if (key.size() != 1 || key[0] < 'A' || key[0] > 'Z')
        fail(where, fields::kChoice, "option key '" + std::string(key) + "' is not a letter A-Z");
      letter = key[0];
    }
    double p = 0;
    check(field.value().get_double().get(p), where, fields::kChoice);
    if (!std::isfinite(p) || p < 0)
      fail(where, fields::kChoice, "probability of '" + std::string(1, letter) + "' is not finite and >= 0");
    d.set(letter - 'A', p);
  }
}

}  // namespace

void parse_probs(LineParser& parser, const JsonLine& line, ProbsRecord& out, uint64_t want,
                 const util::Location& where) {
  od::document doc = parser.impl().iterate(line, where);
  od::object obj;
  check(doc.get_object().get(obj), where, "");
  out.decision_list.clear();
  out.n_decisions = 0;
  out.has_choice = false;
  out.choice.clear();
  out.decision_tokens.clear();
  bool seen_decisions = false;
  for (auto field : obj) {
    std::string_view key;
    check(field.unescaped_key().get(key), where, "");
    od::value v;
    check(field.value().get(v), where, key);
    if (key == fields::kUserId) {
      get_id(v, out.user_id, where, key);
    } else if (key == fields::kItemId) {
      get_id(v, out.item_id, where, key);
    } else if (key == fields::kDecisionList) {
      seen_decisions = true;
      od::array arr;
      check(v.get_array().get(arr), where, key);
      if (want == 0) {
        // Located, not decoded: a token's escapes are checked when it is decoded.
        for (auto el : arr) {
          std::string_view tok;
          check(el.raw_json_token().get(tok), where, key);
          tok = trim_token(tok);
          if (tok.size() < 2 || tok.front() != '"' || tok.back() != '"')
            fail(where, key, "expected a string");
          out.decision_tokens.push_back(
              {static_cast<uint32_t>(tok.data() - parser.impl().base), static_cast<uint32_t>(tok.size())});
        }
        out.n_decisions = out.decision_tokens.size();
        continue;
      }
      for (auto el : arr) {
        const size_t j = out.n_decisions++;
        std::string& text = out.decision_list.emplace_back();
        if (j < 64 && !(want >> j & 1)) continue;
        std::string_view s;
        check(el.get_string().get(s), where, key);
        text.assign(s);
      }
    } else if (key == fields::kChoice) {
      if (v.is_null()) continue;
      od::array arr;
      check(v.get_array().get(arr), where, key);
      out.has_choice = true;
      for (auto el : arr) {
        od::value ev;
        check(el.get(ev), where, key);
        parse_letter_dict(ev, out.choice.emplace_back(), where);
      }
    }
  }
  if (!seen_decisions) fail(where, fields::kDecisionList, "missing field");
  if (out.has_choice && out.choice.size() != out.n_decisions)
    fail(where, fields::kChoice,
         "choice has " + std::to_string(out.choice.size()) + " entries but decision_list has " +
             std::to_string(out.n_decisions));
}

std::string_view parse_string_token(LineParser& parser, const JsonLine& token, const util::Location& where) {
  od::document doc = parser.impl().iterate(token, where);
  std::string_view s;
  check(doc.get_string().get(s), where, "");
  return s;
}

void write_probs(util::JsonWriter& w, const ProbsRecord& r) {
  w.begin_object();
  w.key(fields::kUserId);
  w.value(r.user_id);
  w.key(fields::kItemId);
  w.value(r.item_id);
  w.key(fields::kDecisionList);
  w.begin_array();
  for (const auto& d : r.decision_list) w.value(d);
  w.end_array();
  w.key(fields::kChoice);
  if (!r.has_choice) {
    w.null();
  } else {
    w.begin_array();
    for (const auto& d : r.choice) {
      w.begin_object();
      for (int k = 0; k < kMaxOptions; ++k) {
        if (!d.present[static_cast<size_t>(k)]) continue;
        const char letter[2] = {option_letter(k), 0};
        w.key(letter);
        w.value(d.value[static_cast<size_t>(k)]);
      }
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
}

void parse_decisions(LineParser& parser, const JsonLine& line, DecisionsRecord& out,
                     const util::Location& where) {
  od::document doc = parser.impl().iterate(line, where);
  od::object obj;
  check(doc.get_object().get(obj), where, "");
  out.custom_id.clear();
  out.row = -1;
  out.contents.clear();
  out.ok = false;
  for (auto field : obj) {
    std::string_view key;
    check(field.unescaped_key().get(key), where, "");
    od::value v;
    check(field.value().get(v), where, key);
    if (key == fields::kCustomId) {
      get_string(v, out.custom_id, where, key);
    } else if (key == fields::kResponse) {
      // A missing or malformed response gives an empty decision list, as in the reference.
      od::object resp;
      if (v.get_object().get(resp)) continue;
      od::object body;
      if (resp.find_field_unordered(fields::kBody).get_object().get(body)) continue;
      od::array choices;
      if (body.find_field_unordered(fields::kChoices).get_array().get(choices)) continue;
      std::vector<std::string> contents;
      bool good = true;
      for (auto c : choices) {
        od::object co;
        std::string_view content;
        if (c.get_object().get(co) || co.find_field_unordered(fields::kMessage)
                                          .find_field_unordered(fields::kContent)
                                          .get_string()
                                          .get(content)) {
          good = false;
          break;
        }
        contents.emplace_back(content);
      }
      if (good) {
        out.contents = std::move(contents);
        out.ok = true;
      }
    }
  }
  if (out.custom_id.empty()) fail(where, fields::kCustomId, "missing field");
  const size_t dash = out.custom_id.rfind('-');
  const std::string_view num =
      dash == std::string::npos ? std::string_view() : std::string_view(out.custom_id).substr(dash + 1);
  int64_t r = -1;
  auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), r);
  if (num.empty() || ec != std::errc() || ptr != num.data() + num.size() || r < 0)
    fail(where, fields::kCustomId, "custom_id '" + out.custom_id + "' does not end in -<row>");
  out.row = r;
}

void write_decisions(util::JsonWriter& w, std::string_view custom_id, std::string_view model,
                     const std::vector<std::string>& contents) {
  w.begin_object();
  w.key(fields::kId);
  w.value(std::string("batch_req_") + std::string(custom_id));
  w.key(fields::kCustomId);
  w.value(custom_id);
  w.key(fields::kResponse);
  w.begin_object();
  w.key(fields::kStatusCode);
  w.value(200);
  w.key("request_id");
  w.value(custom_id);
  w.key(fields::kBody);
  w.begin_object();
  w.key("object");
  w.value("chat.completion");
  w.key("model");
  w.value(model);
  w.key(fields::kChoices);
  w.begin_array();
  for (size_t i = 0; i < contents.size(); ++i) {
    w.begin_object();
    w.key(fields::kIndex);
    w.value(static_cast<int64_t>(i));
    w.key(fields::kMessage);
    w.begin_object();
    w.key(fields::kRole);
    w.value(fields::kAssistant);
    w.key(fields::kContent);
    w.value(contents[i]);
    w.end_object();
    w.key(fields::kFinishReason);
    w.value("stop");
    w.end_object();
  }
  w.end_array();
  w.end_object();
  w.end_object();
  w.key(fields::kError);
  w.null();
  w.end_object();
}

std::string cut_rationale(std::string_view content) { return text::rationale_of(content); }

}  // namespace um::distil
