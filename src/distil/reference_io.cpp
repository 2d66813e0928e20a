#include "distil/reference_io.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <string>

#include "distil/reference_fields.h"

namespace um::distil {

namespace od = simdjson::ondemand;

struct LineParser::Impl {
  od::parser parser;
  std::string buf;
  const char* base = nullptr;  // first byte of the text being iterated (the line or `buf`)
  // Copies the line into a buffer with simdjson's padding and starts iterating it.
  od::document iterate(const JsonLine& line, const util::Location& where) {
    static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING);
    simdjson::padded_string_view view;
    if (line.padded) {
      view =
          simdjson::padded_string_view(line.text.data(), line.text.size(), line.text.size() + kJsonPadding);
    } else {
      buf.assign(line.text);
      buf.append(kJsonPadding, ' ');
      view = simdjson::padded_string_view(buf.data(), line.text.size(), buf.size());
    }
    base = view.data();
    od::document doc;
    auto err = parser.iterate(view).get(doc);
    if (err) throw util::Error(std::string("invalid JSON: ") + simdjson::error_message(err), where);
    return doc;
  }
};

void pad_line(std::string& buf, std::string_view line) {
  buf.reserve(line.size() + kJsonPadding);
  buf.assign(line);
  buf.append(kJsonPadding, ' ');
}

LineParser::LineParser() : impl_(std::make_unique<Impl>()) {}
LineParser::~LineParser() = default;

namespace {

util::Location at(const util::Location& where, std::string_view field) {
  util::Location l = where;
  l.field = std::string(field);
  return l;
}

[[noreturn]] void fail(const util::Location& where, std::string_view field, const std::string& msg) {
  throw util::Error(msg, at(where, field));
}

void check(simdjson::error_code err, const util::Location& where, std::string_view field) {
  if (err) fail(where, field, std::string("invalid JSON value: ") + simdjson::error_message(err));
}

std::string_view trim_token(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// A string value, or a number's literal text (ids).
void get_id(od::value v, std::string& out, const util::Location& where, std::string_view field) {
  od::json_type t{};
  check(v.type().get(t), where, field);
  if (t == od::json_type::string) {
    std::string_view s;
    check(v.get_string().get(s), where, field);
    out.assign(s);
  } else if (t == od::json_type::number) {
    out.assign(trim_token(v.raw_json_token()));
  } else {
    fail(where, field, "expected a string or number id");
  }
}

void get_string(od::value v, std::string& out, const util::Location& where, std::string_view field) {
  std::string_view s;
  check(v.get_string().get(s), where, field);
  out.assign(s);
}

int64_t get_int(od::value v, const util::Location& where, std::string_view field) {
  od::json_type t{};
  check(v.type().get(t), where, field);
  if (t != od::json_type::number) fail(where, field, "expected an integer");
  int64_t i;
  if (!v.get_int64().get(i)) return i;
  // Integral floats (pandas may write 1.0e12 or 3.0) are accepted; others are errors.
  double d = 0;
  check(v.get_double().get(d), where, field);
  if (!(std::floor(d) == d) || std::fabs(d) > 9.0e15) fail(where, field, "expected an integer");
  return static_cast<int64_t>(d);
}

void get_string_list(od::value v, std::vector<std::string>& out, const util::Location& where,
                     std::string_view field) {
  od::array arr;
  check(v.get_array().get(arr), where, field);
  out.clear();
  for (auto el : arr) {
    std::string_view s;
    check(el.get_string().get(s), where, field);
    out.emplace_back(s);
  }
}

void parse_text(od::value v, SceneText& t, const util::Location& where) {
  od::object obj;
  check(v.get_object().get(obj), where, fields::kText);
  bool profile = false, actions = false, history = false;
  for (auto field : obj) {
    std::string_view key;
    check(field.unescaped_key().get(key), where, fields::kText);
    if (key == fields::kProfile) {
      get_string(field.value(), t.profile, where, "text.profile");
      profile = true;
    } else if (key == fields::kActionList) {
      get_string_list(field.value(), t.action_list, where, "text.action_list");
      actions = true;
    } else if (key == fields::kHistory) {
      get_string(field.value(), t.history, where, "text.history");
      history = true;
    }
  }
  if (!profile) fail(where, "text.profile", "missing field");
  if (!actions) fail(where, "text.action_list", "missing field");
  if (!history) fail(where, "text.history", "missing field");
}

}  // namespace

void parse_scene(LineParser& parser, const JsonLine& line, SceneRecord& out, bool want_text,
                 const util::Location& where) {
  od::document doc = parser.impl().iterate(line, where);
  od::object obj;
  check(doc.get_object().get(obj), where, "");
  out.impression_list.clear();
  unsigned seen = 0;  // bit per required field
  for (auto field : obj) {
    std::string_view key;
    check(field.unescaped_key().get(key), where, "");
    od::value v;
    check(field.value().get(v), where, key);
    if (key == fields::kText) {
      if (want_text) parse_text(v, out.text, where);
      seen |= 1;
    } else if (key == fields::kUserId) {
      get_id(v, out.user_id, where, key);
      seen |= 2;
    } else if (key == fields::kItemId) {
      get_id(v, out.item_id, where, key);
      seen |= 4;
    } else if (key == fields::kTimestamp) {
      out.timestamp = get_int(v, where, key);
      seen |= 8;
    } else if (key == fields::kItemPos) {
      out.item_pos = static_cast<int>(get_int(v, where, key));
      seen |= 16;
    } else if (key == fields::kChoiceCnt) {
      out.choice_cnt = static_cast<int>(get_int(v, where, key));
      seen |= 32;
    } else if (key == fields::kDataset) {
      get_string(v, out.dataset, where, key);
      seen |= 64;
    } else if (key == fields::kImpressionList) {
      od::array arr;
      check(v.get_array().get(arr), where, key);
      for (auto el : arr) {
        od::value ev;
        check(el.get(ev), where, key);
        get_id(ev, out.impression_list.emplace_back(), where, key);
      }
    }
  }
  static constexpr const char* kRequired[] = {fields::kText,      fields::kUserId,  fields::kItemId,
                                              fields::kTimestamp, fields::kItemPos, fields::kChoiceCnt,
                                              fields::kDataset};
  for (unsigned b = 0; b < 7; ++b)
    if (!(seen & (1u << b))) fail(where, kRequired[b], "missing field");
  if (out.choice_cnt < 1 || out.choice_cnt > kMaxOptions)
    fail(where, fields::kChoiceCnt, "choice_cnt must be in 1.." + std::to_string(kMaxOptions));
  if (out.item_pos < 0 || out.item_pos >= out.choice_cnt)
    fail(where, fields::kItemPos, "item_pos must be in 0..choice_cnt-1");
  if (want_text && out.text.action_list.size() != static_cast<size_t>(out.choice_cnt))
    fail(where, "text.action_list", "action_list length differs from choice_cnt");
  if (!out.impression_list.empty() && out.impression_list.size() != static_cast<size_t>(out.choice_cnt))
    fail(where, fields::kImpressionList, "impression_list length differs from choice_cnt");
}

void write_scene(util::JsonWriter& w, const SceneRecord& s) {
  w.begin_object();
  w.key(fields::kText);
  w.begin_object();
  w.key(fields::kProfile);
  w.value(s.text.profile);
  w.key(fields::kActionList);
  w.begin_array();
  for (const auto& a : s.text.action_list) w.value(a);
  w.end_array();
  w.key(fields::kHistory);
  w.value(s.text.history);
  w.end_object();
  w.key(fields::kUserId);
  w.value(s.user_id);
  w.key(fields::kItemId);
  w.value(s.item_id);
  w.key(fields::kTimestamp);
  w.value(s.timestamp);
  w.key(fields::kItemPos);
  w.value(s.item_pos);
  w.key(fields::kChoiceCnt);
  w.value(s.choice_cnt);
  w.key(fields::kDataset);
  w.value(s.dataset);
  if (!s.impression_list.empty()) {
    w.key(fields::kImpressionList);
    w.begin_array();
    for (const auto& id : s.impression_list) w.value(id);
    w.end_array();
  }
  w.end_object();
}

namespace {

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
