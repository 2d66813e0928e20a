#include "arena/arena.h"
#include "pipeline/evaluate_stage.h"

namespace um::arena {

bool render_arena_figures(const std::filesystem::path& report_json, const std::filesystem::path& out_dir) {
  return pipeline::run_plot_script("plot_arena_report.py", report_json, out_dir);
}

}  // namespace um::arena
