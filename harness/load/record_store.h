#pragma once
// Append-only storage for request records, one per load thread: fixed-size chunks allocated as
// needed (no reallocation, no per-request allocation), bounded by a capacity.
#include "load/request_record.h"

#include <cstddef>
#include <memory>
#include <vector>

namespace draincheck {

class RecordStore {
public:
    static constexpr size_t kChunk = 16384;

    explicit RecordStore(size_t capacity) : capacity_(capacity) {}

    // Returns false (and counts the record as lost) when the capacity is reached.
    bool append(const RequestRecord& r);
    size_t size() const { return size_; }
    size_t lost() const { return lost_; }

    // Moves every record of every store into one vector sorted by start time (in place), freeing each chunk
    // as soon as it is copied so the peak memory is the result plus one chunk.
    static std::vector<RequestRecord> merge(std::vector<RecordStore*> stores);

private:
    std::vector<std::unique_ptr<RequestRecord[]>> chunks_;
    size_t size_ = 0;
    size_t lost_ = 0;
    size_t capacity_;
};

}  // namespace draincheck
