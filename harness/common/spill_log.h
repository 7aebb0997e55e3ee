#pragma once
// An append-only log of fixed-size records whose memory does not grow with the length of a run:
// only the chunk being filled is in memory; each full chunk goes to a SpillFile (the kernel's page
// cache, written to disk under memory pressure) and everything is read back once, by take_into().
// If the file cannot be written, chunks stay in memory instead: nothing is ever lost.
// Not thread-safe: one writer, then take_into() after it has finished.
#include "common/spill_file.h"

#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

namespace draincheck {

template <class T>
class SpillLog {
    static_assert(std::is_trivially_copyable_v<T>, "records are written to the file byte for byte");

public:
    explicit SpillLog(size_t chunk) : chunk_(chunk), filling_(new T[chunk]) {}

    void push(const T& value) {
        filling_[filled_++] = value;
        ++size_;
        if (filled_ == chunk_) flush();
    }
    size_t size() const { return size_; }
    size_t spilled() const { return file_.size() / sizeof(T); }   // of size(), how many wait in the file

    // Appends every record, in the order pushed, to `out` and empties the log. Returns false (having
    // appended what it could) if the file could not be read back.
    bool take_into(std::vector<T>& out) {
        out.reserve(out.size() + size_);
        const size_t at = out.size(), from_file = spilled();
        out.resize(at + from_file);
        bool ok = file_.read(out.data() + at, from_file * sizeof(T));
        if (!ok) out.resize(at);
        file_.clear();
        for (auto& kept : kept_) out.insert(out.end(), kept.get(), kept.get() + chunk_);
        kept_.clear();
        out.insert(out.end(), filling_.get(), filling_.get() + filled_);
        filled_ = 0;
        size_ = 0;
        return ok;
    }

private:
    void flush() {
        if (kept_.empty() && file_.append(filling_.get(), chunk_ * sizeof(T))) {
            filled_ = 0;
            return;
        }
        kept_.push_back(std::move(filling_));   // kept in memory, after whatever the file holds
        filling_.reset(new T[chunk_]);
        filled_ = 0;
    }

    size_t chunk_;
    std::unique_ptr<T[]> filling_;
    size_t filled_ = 0;
    size_t size_ = 0;
    SpillFile file_;
    std::vector<std::unique_ptr<T[]>> kept_;
};

}  // namespace draincheck
