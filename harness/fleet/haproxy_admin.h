#pragma once
// A client for haproxy's runtime API on its admin socket (a unix stream socket): one command per
// connection, the answer read until haproxy closes it. Blocking, but every step is bounded by a
// timeout; on the local socket a command takes well under a millisecond.
#include <chrono>
#include <stdexcept>
#include <string>

namespace draincheck {

struct HaproxyAdminError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class HaproxyAdmin {
public:
    explicit HaproxyAdmin(std::string socket_path, std::chrono::milliseconds timeout = std::chrono::milliseconds(2000))
        : path_(std::move(socket_path)), timeout_(timeout) {}

    // Sends `command` (several may be joined with ';') and returns haproxy's answer.
    // Throws HaproxyAdminError when the socket cannot be reached or does not answer in time.
    std::string run(const std::string& command) const;
    // True if the socket answers `show info`.
    bool answers() const;

    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::chrono::milliseconds timeout_;
};

}  // namespace draincheck
