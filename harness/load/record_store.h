#pragma once
// Append-only storage for request records, one per load thread, bounded by a capacity. No
// per-request allocation, and no memory growth during the run: full chunks of records wait in a
// temporary file (SpillLog) until the run ends and the verdict reads them all.
#include "common/spill_log.h"
#include "load/request_record.h"

#include <cstddef>
#include <vector>

namespace draincheck {

class RecordStore {
public:
    static constexpr size_t kChunk = 16384;

    explicit RecordStore(size_t capacity) : capacity_(capacity) {}

    // Returns false (and counts the record as lost) when the capacity is reached.
    bool append(const RequestRecord& r);
    size_t size() const { return log_.size(); }
    size_t lost() const { return lost_; }

    // Moves every record of every store into one vector sorted by start time (in place). Records the
    // temporary file could not give back are counted in lost().
    static std::vector<RequestRecord> merge(std::vector<RecordStore*> stores);

private:
    SpillLog<RequestRecord> log_{kChunk};
    size_t lost_ = 0;
    size_t capacity_;
};

}  // namespace draincheck
