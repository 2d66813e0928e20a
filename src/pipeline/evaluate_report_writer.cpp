// report.json and report.md for evaluate_scenes() results.
#include <fmt/format.h>

#include "pipeline/evaluate_report.h"
#include "util/atomic_file.h"
#include "util/json_writer.h"

namespace um::pipeline {

namespace {

constexpr const char* kMetricKeys[] = {
    "sampled_hit_rate", "expected_hit_rate", "argmax_accuracy", "nll", "brier", "ece"};

const Estimate& metric(const EvalMetrics& m, size_t k) {
  const Estimate* e[] = {
      &m.sampled_hit_rate, &m.expected_hit_rate, &m.argmax_accuracy, &m.nll, &m.brier, &m.ece};
  return *e[k];
}

void write_metrics(util::JsonWriter& w, const EvalMetrics& m) {
  w.begin_object();
  w.key("scenes");
  w.value(m.scenes);
  w.key("without_prediction");
  w.value(m.without_prediction);
  for (size_t k = 0; k < std::size(kMetricKeys); ++k) {
    const Estimate& e = metric(m, k);
    w.key(kMetricKeys[k]);
    w.begin_object();
    w.key("value");
    w.value(e.value);
    w.key("ci_low");
    w.value(e.lo);
    w.key("ci_high");
    w.value(e.hi);
    w.end_object();
  }
  w.key("reliability");
  w.begin_array();
  for (const auto& b : m.reliability) {
    w.begin_object();
    w.key("lo");
    w.value(b.lo);
    w.key("hi");
    w.value(b.hi);
    w.key("count");
    w.value(b.count);
    w.key("confidence");
    w.value(b.confidence);
    w.key("accuracy");
    w.value(b.accuracy);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void write_table(util::JsonWriter& w, const EvalTable& t) {
  w.begin_object();
  w.key("name");
  w.value(t.name);
  w.key("overall");
  write_metrics(w, t.overall);
  for (const auto& [key, groups] :
       {std::pair{"by_dataset", &t.by_dataset}, std::pair{"by_length", &t.by_length}}) {
    w.key(key);
    w.begin_object();
    for (const auto& g : *groups) {
      w.key(g.key);
      write_metrics(w, g.metrics);
    }
    w.end_object();
  }
  w.end_object();
}

std::string cell(const Estimate& e) { return fmt::format("{:.4f} [{:.4f}, {:.4f}]", e.value, e.lo, e.hi); }

void table_header(std::string& md, const char* first) {
  md += fmt::format("| {} | scenes | sampled hit | expected hit | argmax acc | NLL (nats) | Brier | ECE |\n",
                    first);
  md += "|---|---:|---:|---:|---:|---:|---:|---:|\n";
}

void table_row(std::string& md, const std::string& label, const EvalMetrics& m) {
  md += fmt::format("| {} | {} |", label, m.scenes);
  for (size_t k = 0; k < std::size(kMetricKeys); ++k) md += " " + cell(metric(m, k)) + " |";
  md += "\n";
}

}  // namespace

std::string eval_report_json(const EvalReport& r) {
  util::JsonWriter w;
  w.begin_object();
  w.key("title");
  w.value(r.title);
  w.key("simulator");
  write_table(w, r);
  w.key("baselines");
  w.begin_array();
  for (const auto& b : r.baselines) write_table(w, b);
  w.end_array();
  w.end_object();
  w.newline();
  return w.take();
}

std::string eval_report_markdown(const EvalReport& r) {
  std::string md = "# " + r.title + "\n\n";
  md +=
      "Values with 95 % bootstrap intervals over scenes. Sampled hit = the reference's accuracy (a behaviour "
      "drawn per repeat); expected hit = mean probability of the true option; argmax accuracy credits ties "
      "fractionally; NLL in nats; Brier summed over options; ECE over max-probability bins.\n\n";
  md += "## Overall\n\n";
  table_header(md, "predictor");
  table_row(md, r.name, r.overall);
  for (const auto& b : r.baselines) table_row(md, b.name, b.overall);
  for (const auto& [title, pick] : {std::pair{"## Per dataset", &EvalTable::by_dataset},
                                    std::pair{"## Per exposure length", &EvalTable::by_length}}) {
    md += std::string("\n") + title + "\n\n";
    table_header(md, "group / predictor");
    for (const auto& g : r.*pick) {
      table_row(md, g.key + " / " + r.name, g.metrics);
      for (const auto& b : r.baselines)
        for (const auto& bg : b.*pick)
          if (bg.key == g.key) table_row(md, g.key + " / " + b.name, bg.metrics);
    }
  }
  md += "\n## Reliability (" + r.name +
        ", all scenes)\n\n| confidence bin | scenes | mean confidence | accuracy |\n"
        "|---|---:|---:|---:|\n";
  for (const auto& b : r.overall.reliability)
    md += fmt::format("| [{:.2f}, {:.2f}) | {} | {:.4f} | {:.4f} |\n", b.lo, b.hi, b.count, b.confidence,
                      b.accuracy);
  return md;
}

void write_eval_report(const EvalReport& r, const std::filesystem::path& json_path,
                       const std::filesystem::path& markdown_path) {
  util::write_file_atomic(json_path, eval_report_json(r));
  util::write_file_atomic(markdown_path, eval_report_markdown(r));
}

}  // namespace um::pipeline
