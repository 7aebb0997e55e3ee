#pragma once
// Reads a child's stdout or stderr pipe until EOF, splitting it into timestamped lines kept in a
// bounded ring shared by both streams. Never blocks the child: it always keeps reading.
#include "common/run_clock.h"
#include "supervisor/supervisor.h"

#include <boost/asio/readable_pipe.hpp>

#include <deque>
#include <functional>
#include <memory>

namespace draincheck {

class LogRing {
public:
    LogRing(size_t max_lines, size_t max_line_bytes, std::vector<std::string> secrets,
            std::function<void(const LogLine&)> on_line)
        : max_lines_(max_lines), max_line_bytes_(max_line_bytes), secrets_(std::move(secrets)), on_line_(std::move(on_line)) {}
    void add(int64_t at_ns, bool is_stderr, std::string text);
    // Lines from now on are kept but no longer passed to on_line (its owner is gone).
    void stop_forwarding() { on_line_ = nullptr; }
    std::vector<LogLine> tail() const { return {lines_.begin(), lines_.end()}; }
    uint64_t lines_total() const { return lines_total_; }
    uint64_t bytes_total() const { return bytes_total_; }
    size_t max_line_bytes() const { return max_line_bytes_; }
    void count_bytes(size_t n) { bytes_total_ += n; }

private:
    std::deque<LogLine> lines_;
    size_t max_lines_, max_line_bytes_;
    std::vector<std::string> secrets_;
    std::function<void(const LogLine&)> on_line_;
    uint64_t lines_total_ = 0, bytes_total_ = 0;
};

// Owned by shared_ptr: each pending read holds the reader (and through it the ring), so the owner
// may let go of it at any moment; close() makes a pending read finish without calling on_eof.
class PipeReader : public std::enable_shared_from_this<PipeReader> {
public:
    PipeReader(boost::asio::io_context& io, RunClock clock, std::shared_ptr<LogRing> ring, bool is_stderr)
        : pipe_(io), clock_(clock), ring_(std::move(ring)), is_stderr_(is_stderr) {}

    boost::asio::readable_pipe& pipe() { return pipe_; }
    // Starts reading; `on_eof` is called once when the pipe is closed on the other end.
    void start(std::function<void()> on_eof);
    // Stops reading: the descriptor is closed and on_eof is never called.
    void close();

private:
    void read();
    void on_read(const boost::system::error_code& ec, size_t n);
    void flush_partial();

    boost::asio::readable_pipe pipe_;
    RunClock clock_;
    std::shared_ptr<LogRing> ring_;
    bool is_stderr_;
    static constexpr size_t kBufferBytes = 65536;
    std::unique_ptr<char[]> buffer_;   // only while the pipe is open: a long fleet run ends many processes
    std::string partial_;
    bool closed_ = false;   // close() was called: a read still pending must touch nothing
    bool cut_ = false;    // the current line was already cut at max_line_bytes
    std::function<void()> on_eof_;
};

}  // namespace draincheck
