#include "common/spill_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>

namespace draincheck {

namespace {

// In the temporary directory ($TMPDIR or /tmp): O_TMPFILE where the file system has it; otherwise a
// named file unlinked at once. -1 if there is no such directory or nothing can be created in it.
int open_unlinked() {
    std::error_code ec;
    const std::string dir = std::filesystem::temp_directory_path(ec).string();
    if (ec) return -1;
    int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    std::string name = dir + "/draincheck-spill-XXXXXX";   // for as long as it takes to unlink it
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(name.c_str());
    return fd;
}

}  // namespace

SpillFile::~SpillFile() { clear(); }

bool SpillFile::append(const void* data, size_t bytes) {
    if (failed_) return false;
    if (fd_ < 0 && (fd_ = open_unlinked()) < 0) {
        failed_ = true;
        return false;
    }
    const char* p = static_cast<const char*>(data);
    size_t done = 0;
    while (done < bytes) {
        ssize_t n = ::pwrite(fd_, p + done, bytes - done, off_t(size_ + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            failed_ = true;   // a partial chunk past size_ is never read back
            return false;
        }
        done += size_t(n);
    }
    size_ += bytes;
    return true;
}

bool SpillFile::read(void* out, size_t bytes) const {
    if (bytes > size_) return false;
    char* p = static_cast<char*>(out);
    size_t done = 0;
    while (done < bytes) {
        ssize_t n = ::pread(fd_, p + done, bytes - done, off_t(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += size_t(n);
    }
    return true;
}

void SpillFile::clear() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    failed_ = false;
    size_ = 0;
}

}  // namespace draincheck
