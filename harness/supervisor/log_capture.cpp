#include "supervisor/log_capture.h"

namespace draincheck {

void LogRing::add(int64_t at_ns, bool is_stderr, std::string text) {
    ++lines_total_;
    lines_.push_back({at_ns, is_stderr, std::move(text)});
    if (on_line_) on_line_(lines_.back());
    if (lines_.size() > max_lines_) lines_.pop_front();
}

void PipeReader::start(std::function<void()> on_eof) {
    on_eof_ = std::move(on_eof);
    read();
}

void PipeReader::close() {
    boost::system::error_code ignored;
    pipe_.close(ignored);
}

void PipeReader::read() {
    pipe_.async_read_some(boost::asio::buffer(buffer_), [this](const boost::system::error_code& ec, size_t n) {
        int64_t now = clock_.now_ns();
        ring_.count_bytes(n);
        for (size_t i = 0; i < n; ++i) {
            char c = buffer_[i];
            if (c == '\n') {
                if (!cut_) ring_.add(now, is_stderr_, std::move(partial_));
                partial_.clear();
                cut_ = false;
            } else if (!cut_) {
                partial_ += c;
                if (partial_.size() >= ring_.max_line_bytes()) {
                    ring_.add(now, is_stderr_, std::move(partial_) + " …[cut]");
                    partial_.clear();
                    cut_ = true;
                }
            }
        }
        if (ec) {
            flush_partial();
            if (on_eof_) std::exchange(on_eof_, nullptr)();
            return;
        }
        read();
    });
}

void PipeReader::flush_partial() {
    if (!partial_.empty() && !cut_) ring_.add(clock_.now_ns(), is_stderr_, std::move(partial_));
    partial_.clear();
}

}  // namespace draincheck
