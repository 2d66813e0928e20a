#pragma once
// data — the unified schema and one reader per raw dataset format.
//
//   data::PrepareResult r = data::prepare({.dataset = "ml-1m", .raw_dir = raw, .work_dir = work});
//   data::Dataset ds = data::load_dataset(work, "ml-1m");
//
// Readers stream their inputs (gzip-transparent), decode Latin-1 where the dataset is Latin-1,
// and report bad records with file:line and field — failing, or counting them with skip_bad.
// Thread safety: free functions are reentrant; a Dataset is a plain value.
#include "data/dataset_io.h"
#include "data/prepare.h"
#include "data/reader.h"
#include "data/schema.h"
