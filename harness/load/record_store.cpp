#include "load/record_store.h"

#include <algorithm>

namespace draincheck {

bool RecordStore::append(const RequestRecord& r) {
    if (log_.size() >= capacity_) {
        ++lost_;
        return false;
    }
    log_.push(r);
    return true;
}

std::vector<RequestRecord> RecordStore::merge(std::vector<RecordStore*> stores) {
    size_t total = 0;
    for (auto* s : stores) total += s->size();
    std::vector<RequestRecord> out;
    out.reserve(total);
    for (auto* s : stores) {
        size_t before = out.size(), expected = s->size();
        s->log_.take_into(out);
        s->lost_ += expected - (out.size() - before);
    }
    std::sort(out.begin(), out.end(), [](const RequestRecord& a, const RequestRecord& b) {
        return a.started_us != b.started_us ? a.started_us < b.started_us : a.intended_us < b.intended_us;
    });
    return out;
}

}  // namespace draincheck
