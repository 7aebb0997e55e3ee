#pragma once
// An unlinked temporary file that bytes are appended to and read back once. It lives in $TMPDIR (or
// /tmp), is never visible by name, and disappears with the descriptor, even if the process is killed.
#include <cstddef>

namespace draincheck {

class SpillFile {
public:
    SpillFile() = default;
    ~SpillFile();
    SpillFile(const SpillFile&) = delete;
    SpillFile& operator=(const SpillFile&) = delete;

    // Appends `bytes` bytes; the file is created on the first call. False if it cannot be created or
    // written (full disk, no temporary directory): the caller keeps the data itself, and every later
    // call fails the same way, so what was written stays a prefix.
    bool append(const void* data, size_t bytes);
    size_t size() const { return size_; }

    // Reads the first `bytes` bytes (at most size()) into `out`. False on a read error.
    bool read(void* out, size_t bytes) const;

    // Forgets the content and closes the file.
    void clear();

private:
    int fd_ = -1;
    bool failed_ = false;
    size_t size_ = 0;
};

}  // namespace draincheck
