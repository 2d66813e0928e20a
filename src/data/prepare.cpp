#include "data/prepare.h"

#include "data/dataset_io.h"

namespace um::data {

PrepareResult prepare(const PrepareOptions& opts) {
  const ReaderEntry& reader = find_reader(opts.dataset);
  if (!std::filesystem::is_directory(opts.raw_dir))
    throw util::Error("raw data folder not found (expected: " + reader.description + ")",
                      {.file = opts.raw_dir.string()});
  BadRecords bad(opts.skip_bad);
  PrepareResult result;
  ReadContext ctx{.raw_dir = opts.raw_dir,
                  .dataset = opts.dataset,
                  .filters = opts.filters,
                  .defaults = reader.filters,
                  .bad = &bad,
                  .compat = opts.compat,
                  .stats = &result.stats};
  Dataset ds = reader.read(ctx);
  ds.name = opts.dataset;
  write_dataset(opts.work_dir, ds);
  result.users = ds.users.size();
  result.items = ds.items.size();
  result.interactions = ds.interactions.size();
  result.skipped = bad.counts();
  return result;
}

}  // namespace um::data
