#pragma once
// The verifier is a pure function: records + events + expectations in, verdict out.
// No sockets, no clocks: unit-tested with hand-built records.
#include "verifier/run_result.h"
#include "verifier/verdict.h"

namespace draincheck {

Verdict verify(const RunResult& run);

}  // namespace draincheck
