#include "arena/arena_report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "arena/rank_agreement.h"
#include "pipeline/evaluate_report.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/rng.h"

namespace um::arena {
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// What one model's answers say about each recommender.
struct RecStats {
  double mass = 0, relevant = 0, popularity = 0, novelty = 0;  // Σ q (· weight) over its slots
  std::vector<double> position_mass;                           // Σ q per page slot
  std::vector<double> position_count;                          // slots seen per position
  std::set<uint32_t> shown;
  int64_t pages = 0;
};

struct RoundStats {
  double relevant = 0, popularity = 0;
  std::set<uint32_t> shown;
  int64_t slots = 0, pages = 0;
};

struct ModelSummary {
  std::string name;
  // The bootstrap streams' key: "simulator" for the model under test (its name may hold a model path,
  // which must not change the intervals), the control's name for a control.
  std::string stream;
  std::vector<std::vector<double>> score;  // [rec][user], NaN = no answer
  std::vector<size_t> complete;            // users with a score for every recommender
  std::vector<double> mean;                // per rec over `complete`
  std::vector<std::string> ranking;
  std::vector<RecStats> stats;
  // Pairwise: [a][b] per-user credit of a against b (interleave) or 1/0.5/0 comparisons of scores.
  std::vector<std::vector<std::vector<double>>> pair_user;
  std::vector<std::vector<RoundStats>> rounds;  // [rec][round] (session)
};

double mean_of(const std::vector<double>& v, const std::vector<size_t>& idx) {
  if (idx.empty()) return kNaN;
  double s = 0;
  for (size_t i : idx) s += v[i];
  return s / static_cast<double>(idx.size());
}

double clean(double v) { return std::isfinite(v) ? v : 0.0; }

ojson number_or_null(double v) { return std::isfinite(v) ? ojson(v) : ojson(nullptr); }

ModelSummary summarise(const ArenaData& d, const ModelRun& run) {
  const auto& o = *d.options;
  const size_t nr = d.rec_names.size(), nu = d.users.size();
  ModelSummary m;
  m.name = run.name;
  m.stats.assign(nr, {});
  for (auto& st : m.stats) {
    st.position_mass.assign(o.page_size, 0.0);
    st.position_count.assign(o.page_size, 0.0);
  }
  m.rounds.assign(nr, std::vector<RoundStats>(o.protocol == "session" ? static_cast<size_t>(o.rounds) : 0));
  std::vector<std::vector<double>> sum(nr, std::vector<double>(nu, 0.0)),
      cnt(nr, std::vector<double>(nu, 0.0));
  m.pair_user.assign(nr, std::vector<std::vector<double>>(nr, std::vector<double>(nu, kNaN)));
  // n_users with train interactions, for novelty's −log2(popularity share).
  double train_users = 0;
  for (const auto& t : d.split->train) train_users += t.empty() ? 0 : 1;
  for (const Showing& sh : run.showings) {
    const auto& q = run.dist[sh.page];
    if (q.empty()) continue;
    const PageScene& p = (*run.pages)[sh.page];
    const auto& rel = d.relevant[sh.user];
    std::vector<double> credit(sh.recs.size(), 0.0);
    for (size_t k = 0; k < p.items.size(); ++k) {
      const size_t owner_slot = sh.team.empty() ? 0 : static_cast<size_t>(sh.team[k]);
      const size_t r = static_cast<size_t>(sh.recs[owner_slot]);
      const uint32_t item = p.items[k];
      const bool is_rel = std::binary_search(rel.begin(), rel.end(), item);
      const double c = static_cast<double>(d.train_count[item]);
      RecStats& st = m.stats[r];
      st.mass += q[k];
      st.relevant += is_rel ? q[k] : 0.0;
      st.popularity += q[k] * c;
      st.novelty += q[k] * -std::log2(std::max(c, 1.0) / std::max(train_users, 1.0));
      st.shown.insert(item);
      if (sh.team.empty() && k < st.position_mass.size()) {
        st.position_mass[k] += q[k];
        st.position_count[k] += 1;
      }
      credit[owner_slot] += q[k];
      if (o.protocol == "session") {
        RoundStats& rs = m.rounds[r][static_cast<size_t>(sh.round)];
        rs.relevant += is_rel ? q[k] : 0.0;
        rs.popularity += q[k] * c;
        rs.shown.insert(item);
        rs.slots += 1;
      }
    }
    for (int r : sh.recs) m.stats[static_cast<size_t>(r)].pages += 1;
    if (o.protocol == "session")
      m.rounds[static_cast<size_t>(sh.recs[0])][static_cast<size_t>(sh.round)].pages += 1;
    if (sh.team.empty()) {
      double rel_mass = 0;
      for (size_t k = 0; k < p.items.size(); ++k)
        if (std::binary_search(rel.begin(), rel.end(), p.items[k])) rel_mass += q[k];
      const auto r = static_cast<size_t>(sh.recs[0]);
      sum[r][sh.user] += rel_mass;
      cnt[r][sh.user] += 1;
    } else if (sh.recs.size() > 2) {
      // Multileaving: each team's share of the choice; a pair compares the two teams' shares.
      for (size_t i = 0; i < sh.recs.size(); ++i) {
        const auto a = static_cast<size_t>(sh.recs[i]);
        sum[a][sh.user] += credit[i];
        cnt[a][sh.user] += 1;
        for (size_t j = 0; j < sh.recs.size(); ++j) {
          if (i == j) continue;
          const double both = credit[i] + credit[j];
          m.pair_user[a][static_cast<size_t>(sh.recs[j])][sh.user] = both > 0 ? credit[i] / both : 0.5;
        }
      }
    } else {
      const auto a = static_cast<size_t>(sh.recs[0]), b = static_cast<size_t>(sh.recs[1]);
      m.pair_user[a][b][sh.user] = credit[0];
      m.pair_user[b][a][sh.user] = credit[1];
      sum[a][sh.user] += credit[0];
      cnt[a][sh.user] += 1;
      sum[b][sh.user] += credit[1];
      cnt[b][sh.user] += 1;
    }
  }
  m.score.assign(nr, std::vector<double>(nu, kNaN));
  const size_t expected = o.protocol == "interleave" ? nr - 1 : o.protocol == "session" ? 0 : 1;
  for (size_t r = 0; r < nr; ++r)
    for (size_t u = 0; u < nu; ++u)
      if (cnt[r][u] > 0 && (expected == 0 || cnt[r][u] == static_cast<double>(expected)))
        m.score[r][u] = sum[r][u] / cnt[r][u];
  for (size_t u = 0; u < nu; ++u) {
    bool ok = true;
    for (size_t r = 0; r < nr; ++r) ok = ok && std::isfinite(m.score[r][u]);
    if (ok) m.complete.push_back(u);
  }
  if (o.protocol == "page" || o.protocol == "session") {
    // Page and session: a pairwise comparison of the users' scores (1 win, 0.5 tie).
    for (size_t a = 0; a < nr; ++a)
      for (size_t b = 0; b < nr; ++b)
        if (a != b)
          for (size_t u : m.complete)
            m.pair_user[a][b][u] = m.score[a][u] > m.score[b][u]    ? 1.0
                                   : m.score[a][u] == m.score[b][u] ? 0.5
                                                                    : 0.0;
  }
  for (size_t r = 0; r < nr; ++r) m.mean.push_back(mean_of(m.score[r], m.complete));
  std::vector<size_t> order(nr);
  for (size_t r = 0; r < nr; ++r) order[r] = r;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return clean(m.mean[a]) > clean(m.mean[b]); });
  for (size_t r : order) m.ranking.push_back(d.rec_names[r]);
  return m;
}

// Bootstrap over users: resample b draws users from stream (seed, "arena/bootstrap/<key>", b), the
// key "simulator" or a control's name (ModelSummary::stream) and, for a pair, the recommenders'
// positions — never a name that may hold a path (file:PATH, local:DIR).
std::vector<std::vector<size_t>> resamples(const ArenaOptions& o, const std::string& model,
                                           const std::vector<size_t>& users) {
  std::vector<std::vector<size_t>> out;
  if (users.empty()) return out;
  for (int64_t b = 0; b < o.bootstrap; ++b) {
    util::Rng rng = util::Rng::stream(o.seed, "arena/bootstrap/" + model, static_cast<uint64_t>(b));
    std::vector<size_t> s(users.size());
    for (auto& x : s)
      x = users[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(users.size()) - 1))];
    out.push_back(std::move(s));
  }
  return out;
}

ojson interval(const std::vector<double>& draws, double value) {
  ojson j;
  j["ci_low"] = number_or_null(draws.empty() ? value : pipeline::percentile(draws, 0.025));
  j["ci_high"] = number_or_null(draws.empty() ? value : pipeline::percentile(draws, 0.975));
  return j;
}

ojson agreement_json(const ArenaData& d, const ModelSummary& m,
                     const std::vector<std::vector<size_t>>& boot) {
  ojson out = ojson::array();
  const size_t nr = d.rec_names.size();
  if (nr < 2 || m.complete.empty()) return out;
  for (const auto& [metric, unused] : d.offline[0].mean) {
    auto means = [&](const std::vector<size_t>& users, std::vector<double>& sim, std::vector<double>& off) {
      sim.assign(nr, 0.0);
      off.assign(nr, 0.0);
      for (size_t r = 0; r < nr; ++r) {
        sim[r] = mean_of(m.score[r], users);
        off[r] = mean_of(d.offline[r].per_user.at(metric), users);
      }
    };
    std::vector<double> sim, off;
    means(m.complete, sim, off);
    const double tau = kendall_tau_b(sim, off), rho = spearman_rho(sim, off);
    std::vector<double> taus, rhos;
    for (const auto& s : boot) {
      std::vector<double> bs, bo;
      means(s, bs, bo);
      taus.push_back(kendall_tau_b(bs, bo));
      rhos.push_back(spearman_rho(bs, bo));
    }
    ojson a;
    a["metric"] = metric;
    a["kendall_tau"] = tau;
    auto ci = interval(taus, tau);
    a["ci_low"] = ci["ci_low"];
    a["ci_high"] = ci["ci_high"];
    a["spearman"] = rho;
    auto cr = interval(rhos, rho);
    a["spearman_ci_low"] = cr["ci_low"];
    a["spearman_ci_high"] = cr["ci_high"];
    out.push_back(std::move(a));
  }
  return out;
}

ojson pairwise_json(const ArenaData& d, const ModelSummary& m, std::vector<std::vector<double>>& wins) {
  const auto& o = *d.options;
  const size_t nr = d.rec_names.size();
  wins.assign(nr, std::vector<double>(nr, 0.0));
  ojson out = ojson::array();
  for (size_t a = 0; a < nr; ++a) {
    for (size_t b = a + 1; b < nr; ++b) {
      std::vector<size_t> users;
      for (size_t u = 0; u < d.users.size(); ++u)
        if (std::isfinite(m.pair_user[a][b][u]) && std::isfinite(m.pair_user[b][a][u])) users.push_back(u);
      const double wa = mean_of(m.pair_user[a][b], users);
      for (size_t u : users) {
        wins[a][b] += m.pair_user[a][b][u];
        wins[b][a] += m.pair_user[b][a][u];
      }
      std::vector<double> draws;
      for (const auto& s :
           resamples(o, m.stream + "/pair/" + std::to_string(a) + "/" + std::to_string(b), users))
        draws.push_back(mean_of(m.pair_user[a][b], s));
      ojson p;
      p["a"] = d.rec_names[a];
      p["b"] = d.rec_names[b];
      p["win_rate_a"] = number_or_null(wa);
      auto ci = interval(draws, wa);
      p["ci_low"] = ci["ci_low"];
      p["ci_high"] = ci["ci_high"];
      p["pages"] = users.size();
      out.push_back(std::move(p));
    }
  }
  return out;
}

ojson model_json(const ArenaData& d, const ModelSummary& m, bool full) {
  const auto& o = *d.options;
  const size_t nr = d.rec_names.size();
  auto boot = resamples(o, m.stream, m.complete);
  ojson j;
  j["simulator"] = m.name;
  j["users"] = m.complete.size();
  j["ranking"] = m.ranking;
  std::vector<std::vector<double>> wins;
  ojson pairwise = pairwise_json(d, m, wins);
  auto bt = bradley_terry(wins);
  ojson strengths = ojson::object();
  for (size_t r = 0; r < nr; ++r) strengths[d.rec_names[r]] = bt[r];
  j["bradley_terry"] = strengths;
  j["agreement"] = agreement_json(d, m, boot);
  if (!full) {
    ojson scores = ojson::object();
    for (size_t r = 0; r < nr; ++r) scores[d.rec_names[r]] = number_or_null(m.mean[r]);
    j["scores"] = scores;
    return j;
  }
  j["pairwise"] = std::move(pairwise);
  return j;
}

ojson simulated_json(const ArenaData& d, const ModelSummary& m, size_t r,
                     const std::vector<std::vector<size_t>>& boot) {
  const auto& o = *d.options;
  const RecStats& st = m.stats[r];
  ojson s;
  s["score"] = number_or_null(m.mean[r]);
  std::vector<double> draws;
  for (const auto& b : boot) draws.push_back(mean_of(m.score[r], b));
  auto ci = interval(draws, m.mean[r]);
  s["ci_low"] = ci["ci_low"];
  s["ci_high"] = ci["ci_high"];
  s["pages"] = st.pages;
  s["choice_mass"] = st.mass;
  s["test_mass"] = st.mass > 0 ? st.relevant / st.mass : 0.0;
  s["coverage"] = d.split->train_items.empty() ? 0.0
                                               : static_cast<double>(st.shown.size()) /
                                                     static_cast<double>(d.split->train_items.size());
  s["chosen_popularity"] = st.mass > 0 ? st.popularity / st.mass : 0.0;
  s["novelty"] = st.mass > 0 ? st.novelty / st.mass : 0.0;
  if (o.protocol == "page" || o.protocol == "session") {
    ojson curve = ojson::array();
    for (size_t k = 0; k < st.position_mass.size(); ++k)
      curve.push_back(st.position_count[k] > 0 ? st.position_mass[k] / st.position_count[k] : 0.0);
    s["position_curve"] = curve;
  }
  if (o.protocol == "session") {
    ojson rounds = ojson::array();
    for (size_t t = 0; t < m.rounds[r].size(); ++t) {
      const RoundStats& rs = m.rounds[r][t];
      ojson x;
      x["round"] = t;
      x["pages"] = rs.pages;
      x["test_mass"] = rs.pages ? rs.relevant / static_cast<double>(rs.pages) : 0.0;
      x["diversity"] = rs.slots ? static_cast<double>(rs.shown.size()) / static_cast<double>(rs.slots) : 0.0;
      x["chosen_popularity"] = rs.pages ? rs.popularity / static_cast<double>(rs.pages) : 0.0;
      rounds.push_back(std::move(x));
    }
    s["rounds"] = rounds;
    if (!m.rounds[r].empty() && m.rounds[r].front().pages && m.rounds[r].back().pages)
      s["popularity_drift"] = m.rounds[r].back().popularity / static_cast<double>(m.rounds[r].back().pages) -
                              m.rounds[r].front().popularity / static_cast<double>(m.rounds[r].front().pages);
  }
  return s;
}

// A report number in Markdown: null or non-finite as "–".
std::string fmt(const ojson& j, int digits = 3) {
  const double v = j.is_number() ? j.get<double>() : kNaN;
  if (!std::isfinite(v)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string ranking_text(const ojson& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " > ") + n.get<std::string>();
  return out;
}

std::string history_phrase(const ojson& r) {
  const int64_t h = r["history"].get<int64_t>();
  return h == 0 ? "history windows of 2-10 entries (the reference's)"
                : "the last " + std::to_string(h) + " history entries";
}

std::string markdown(const ojson& r) {
  std::string md = "# usermirror arena: " + r["dataset"].get<std::string>() + ", " +
                   r["protocol"].get<std::string>() + " protocol\n\n";
  md += "Simulator `" + r["simulator"]["simulator"].get<std::string>() + "` (" +
        r["mode"].get<std::string>() + " mode), split `" + r["split"]["spec"].get<std::string>() + "`, " +
        std::to_string(r["users"].get<int64_t>()) + " users, pages of " +
        std::to_string(r["page_size"].get<int64_t>()) + ", " + history_phrase(r) + ", seed " +
        std::to_string(r["seed"].get<uint64_t>()) + ".\n\n";
  md +=
      "## Recommenders\n\n| recommender | simulated score [95% CI] | test mass | coverage | chosen "
      "popularity | novelty |";
  std::vector<std::string> metrics;
  for (const auto& [k, v] : r["recommenders"][0]["offline"].items()) metrics.push_back(k);
  for (const auto& k : metrics) md += " " + k + " |";
  md += "\n|---|---|---|---|---|---|";
  for (size_t i = 0; i < metrics.size(); ++i) md += "---|";
  md += "\n";
  for (const auto& rec : r["recommenders"]) {
    const auto& s = rec["simulated"];
    md += "| " + rec["name"].get<std::string>() + " | " + fmt(s["score"]) + " [" + fmt(s["ci_low"]) + ", " +
          fmt(s["ci_high"]) + "] | " + fmt(s["test_mass"]) + " | " + fmt(s["coverage"]) + " | " +
          fmt(s["chosen_popularity"], 1) + " | " + fmt(s["novelty"], 2) + " |";
    for (const auto& k : metrics) md += " " + fmt(rec["offline"][k], 4) + " |";
    md += "\n";
  }
  md += "\nSimulated score: " + r["score_definition"].get<std::string>() + "\n";
  md += "\n## Pairwise (row beats column)\n\n| a | b | win rate of a [95% CI] | users |\n|---|---|---|---|\n";
  for (const auto& p : r["pairwise"])
    md += "| " + p["a"].get<std::string>() + " | " + p["b"].get<std::string>() + " | " +
          fmt(p["win_rate_a"]) + " [" + fmt(p["ci_low"]) + ", " + fmt(p["ci_high"]) + "] | " +
          std::to_string(p["pages"].get<int64_t>()) + " |\n";
  md += "\n## Agreement with the logged data (Kendall τ-b of the rankings, 95% bootstrap CI over users)\n\n";
  md += "| simulator | ranking |";
  for (const auto& a : r["agreement"]) md += " τ vs " + a["metric"].get<std::string>() + " |";
  md += "\n|---|---|";
  for (size_t i = 0; i < r["agreement"].size(); ++i) md += "---|";
  md += "\n";
  auto row = [&](const ojson& m, const ojson& agreement) {
    md += "| " + m["simulator"].get<std::string>() + " | " + ranking_text(m["ranking"]) + " |";
    for (const auto& a : agreement)
      md += " " + fmt(a["kendall_tau"], 2) + " [" + fmt(a["ci_low"], 2) + ", " + fmt(a["ci_high"], 2) + "] |";
    md += "\n";
  };
  row(r["simulator"], r["agreement"]);
  for (const auto& c : r["controls"]) row(c, c["agreement"]);
  md += "\nOffline ranking by each metric:\n\n";
  for (const auto& [metric, ranking] : r["offline_ranking"].items()) {
    md += "- " + metric + ": " + ranking_text(ranking) + "\n";
  }
  md += "\n## Split\n\n";
  const auto& s = r["split"];
  md += "`" + s["spec"].get<std::string>() + "`: " + std::to_string(s["train_interactions"].get<int64_t>()) +
        " train and " + std::to_string(s["test_interactions"].get<int64_t>()) + " test interactions, " +
        std::to_string(s["dropped_unseen_test"].get<int64_t>()) +
        " test interactions dropped (item unseen in train), " +
        std::to_string(s["test_users"].get<int64_t>()) + " test users, " +
        std::to_string(s["users_sampled"].get<int64_t>()) + " sampled.\n";
  if (!r["skips"].empty()) {
    md += "\n## Skipped\n\n";
    for (const auto& [reason, n] : r["skips"].items())
      md += "- " + reason + ": " + std::to_string(n.get<int64_t>()) + "\n";
  }
  return md;
}

}  // namespace

ReportFiles write_arena_report(const ArenaData& d, const std::vector<ModelRun>& runs,
                               const fs::path& out_dir) {
  const auto& o = *d.options;
  const size_t nr = d.rec_names.size();
  std::vector<ModelSummary> sums;
  for (const auto& run : runs) {
    sums.push_back(summarise(d, run));
    sums.back().stream = sums.size() == 1 ? "simulator" : run.name;
  }
  const ModelSummary& main = sums[0];
  auto boot = resamples(o, main.stream, main.complete);

  ojson r;
  r["dataset"] = o.dataset;
  r["protocol"] = o.protocol;
  r["mode"] = o.mode;
  r["page_size"] = o.page_size;
  r["history"] = o.history;  // 0 = the reference's random 2-10 window
  r["offline_k"] = o.offline_k;
  r["seed"] = o.seed;
  r["users"] = d.users.size();
  if (o.protocol == "session") r["rounds"] = o.rounds;
  ojson split;
  split["spec"] = d.split->spec.text();
  split["cutoff_us"] = d.split->cutoff_us;
  split["interactions"] = d.split->interactions;
  split["train_interactions"] = d.split->train_interactions;
  split["test_interactions"] = d.split->test_interactions;
  split["dropped_unseen_test"] = d.split->dropped_unseen_test;
  split["unknown_ids"] = d.split->unknown_ids;
  split["test_users"] = d.split->test_users.size();
  split["users_sampled"] = d.sampled_users;
  split["users_capped"] = d.users_capped;
  r["split"] = split;
  r["score_definition"] =
      o.protocol == "multileave"
          ? "mean over users of the choice probability credited to the recommender's team in one team-draft "
            "multileaved page of all recommenders (1/N = no preference); pairwise: the share of a in the two "
            "teams' combined credit"
      : o.protocol == "interleave"
          ? "mean over users and opponents of the choice probability credited to the recommender's team in "
            "team-draft interleaved pages (a mean win rate; 0.5 = no preference)"
      : o.protocol == "page"
          ? "mean over users of the choice probability on held-out test items of the user, on the "
            "recommender's page"
          : "mean over users and rounds of the choice probability on held-out test items, over the session";
  ojson recs = ojson::array();
  for (size_t i = 0; i < nr; ++i) {
    ojson x;
    x["name"] = d.rec_names[i];
    ojson off = ojson::object();
    for (const auto& [k, v] : d.offline[i].mean) off[k] = v;
    x["offline"] = off;
    x["simulated"] = simulated_json(d, main, i, boot);
    recs.push_back(std::move(x));
  }
  r["recommenders"] = recs;
  ojson sim = model_json(d, main, true);
  r["pairwise"] = sim["pairwise"];
  r["agreement"] = sim["agreement"];
  r["ranking"] = main.ranking;
  sim.erase("pairwise");
  sim.erase("agreement");
  r["simulator"] = sim;
  ojson offline_ranking = ojson::object();
  for (const auto& [metric, unused] : d.offline[0].mean) {
    std::vector<size_t> order(nr);
    for (size_t i = 0; i < nr; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return d.offline[a].mean.at(metric) > d.offline[b].mean.at(metric);
    });
    ojson names = ojson::array();
    for (size_t i : order) names.push_back(d.rec_names[i]);
    offline_ranking[metric] = names;
  }
  r["offline_ranking"] = offline_ranking;
  ojson controls = ojson::array();
  for (size_t m = 1; m < sums.size(); ++m) controls.push_back(model_json(d, sums[m], false));
  r["controls"] = controls;
  ojson skips = ojson::object();
  for (const auto& [reason, n] : d.skips) skips[reason] = n;
  if (runs[0].unanswered) skips["pages without a simulator answer"] = runs[0].unanswered;
  r["skips"] = skips;

  ReportFiles files;
  files.json = out_dir / "report.json";
  files.markdown = out_dir / "report.md";
  files.pages = out_dir / "pages.jsonl";
  files.ranking = main.ranking;
  {
    util::AtomicWriter w(files.json);
    w.write(r.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n");
    w.commit();
  }
  {
    util::AtomicWriter w(files.markdown);
    w.write(markdown(r));
    w.commit();
  }
  {
    util::AtomicWriter w(files.pages);
    const ModelRun& run = runs[0];
    for (const Showing& sh : run.showings) {
      const PageScene& p = (*run.pages)[sh.page];
      ojson line;
      line["user_id"] = d.dataset->users[p.user].id;
      line["round"] = sh.round;
      ojson names = ojson::array();
      for (int x : sh.recs) names.push_back(d.rec_names[static_cast<size_t>(x)]);
      line["recommenders"] = names;
      ojson items = ojson::array(), rel = ojson::array();
      for (uint32_t it : p.items) {
        items.push_back(d.dataset->items[it].id);
        rel.push_back(std::binary_search(d.relevant[sh.user].begin(), d.relevant[sh.user].end(), it) ? 1 : 0);
      }
      line["items"] = items;
      if (!sh.team.empty()) {
        ojson teams = ojson::array();
        for (int t : sh.team)
          teams.push_back(d.rec_names[static_cast<size_t>(sh.recs[static_cast<size_t>(t)])]);
        line["teams"] = teams;
      }
      line["test_item"] = rel;
      if (!p.appended.empty()) {
        ojson app = ojson::array();
        for (uint32_t it : p.appended) app.push_back(d.dataset->items[it].id);
        line["session_choices"] = app;
      }
      line["distribution"] = run.dist[sh.page].empty() ? ojson(nullptr) : ojson(run.dist[sh.page]);
      line["key"] = p.key;
      w.write(line.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n");
    }
    w.commit();
  }
  return files;
}

}  // namespace um::arena
