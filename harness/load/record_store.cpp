#include "load/record_store.h"

#include <algorithm>

namespace draincheck {

bool RecordStore::append(const RequestRecord& r) {
    if (size_ >= capacity_) {
        ++lost_;
        return false;
    }
    if (size_ % kChunk == 0)
        chunks_.push_back(std::unique_ptr<RequestRecord[]>(new RequestRecord[kChunk]));
    chunks_.back()[size_ % kChunk] = r;
    ++size_;
    return true;
}

std::vector<RequestRecord> RecordStore::merge(std::vector<RecordStore*> stores) {
    size_t total = 0;
    for (auto* s : stores) total += s->size_;
    std::vector<RequestRecord> out;
    out.reserve(total);
    for (auto* s : stores) {
        for (size_t c = 0; c < s->chunks_.size(); ++c) {
            size_t n = std::min(kChunk, s->size_ - c * kChunk);
            out.insert(out.end(), s->chunks_[c].get(), s->chunks_[c].get() + n);
            s->chunks_[c].reset();
        }
        s->chunks_.clear();
        s->size_ = 0;
    }
    std::sort(out.begin(), out.end(), [](const RequestRecord& a, const RequestRecord& b) {
        return a.started_us != b.started_us ? a.started_us < b.started_us : a.intended_us < b.intended_us;
    });
    return out;
}

}  // namespace draincheck
