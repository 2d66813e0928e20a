#pragma once
// Interaction-count filters shared by the readers (docs/method.md §2: "keep users with ≥ 5 ratings",
// steam's 5..20 window, Amazon's item minimum), optionally iterated to a k-core fixed point.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "data/reader.h"
#include "data/schema.h"

namespace um::data {

struct CountFilter {
  int64_t min_user = 0;
  int64_t max_user = 0;  // 0 = no maximum
  int64_t min_item = 0;
  bool kcore = false;
};

// The count filter a reader applies: the dataset's row values (ctx.defaults) overridden by the
// user's FilterOptions (ctx.filters).
CountFilter count_filter(const ReadContext& ctx);

// Drops interactions of users/items outside the bounds (all counts taken on the same input, as
// the reference does, unless kcore), then drops users without interactions. Items are kept:
// non-interacted items stay in the item table as exposure candidates, as in the reference.
// Adds "dropped: ..." counters to `stats`.
void apply_count_filter(Dataset& ds, const CountFilter& f, const ReadContext& ctx);

// Removes duplicate (user, item) interactions keeping the earliest (ties: first in file order).
void dedup_user_item_keep_earliest(Dataset& ds, const ReadContext& ctx);

// Number parsing with file/line/field errors.
int64_t parse_int(std::string_view s, const util::Location& where);
double parse_double(std::string_view s, const util::Location& where);

}  // namespace um::data
