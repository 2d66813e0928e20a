#pragma once
// util — the base layer every component may use: typed errors with file/line/field, streaming
// gzip-transparent line reading, atomic output files, a streaming JSON writer, UTF-8 helpers,
// deterministic RNG streams, progress bars and summaries, parallel loops, UTC civil time, the checked
// header of a safetensors file and its 16-bit floats.
//
//   util::LineReader in("ratings.dat.gz");              // streaming, gzip-transparent
//   util::AtomicWriter out(work / "raws/x.jsonl");      // temp file + rename on commit()
//   util::Rng rng = util::Rng::stream(seed, "stage", record_id);
//
// Thread safety: all types are single-owner except Progress::add (thread-safe) and parallel_for.
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/float16.h"
#include "util/json_writer.h"
#include "util/line_reader.h"
#include "util/mapped_file.h"
#include "util/progress.h"
#include "util/rng.h"
#include "util/safetensors_header.h"
#include "util/thread_pool.h"
#include "util/time.h"
#include "util/utf8.h"
