#include "supervisor/log_capture.h"

#include "common/secret_mask.h"

#include <algorithm>
#include <cstring>

namespace draincheck {

void LogRing::add(int64_t at_ns, bool is_stderr, std::string text) {
    ++lines_total_;
    lines_.push_back({at_ns, is_stderr, mask_secrets(std::move(text), secrets_)});
    if (on_line_) on_line_(lines_.back());
    if (lines_.size() > max_lines_) lines_.pop_front();
}

void PipeReader::start(std::function<void()> on_eof) {
    on_eof_ = std::move(on_eof);
    buffer_.reset(new char[kBufferBytes]);
    read();
}

void PipeReader::close() {
    closed_ = true;
    on_eof_ = nullptr;
    boost::system::error_code ignored;
    pipe_.close(ignored);
}

void PipeReader::read() {
    pipe_.async_read_some(boost::asio::buffer(buffer_.get(), kBufferBytes),
                          [self = shared_from_this()](const boost::system::error_code& ec, size_t n) { self->on_read(ec, n); });
}

void PipeReader::on_read(const boost::system::error_code& ec, size_t n) {
    if (closed_) return;
    int64_t now = clock_.now_ns();
    ring_->count_bytes(n);
    const char* at = buffer_.get();
    const char* end = at + n;
    while (at < end) {
        const char* newline = static_cast<const char*>(std::memchr(at, '\n', size_t(end - at)));
        const char* stop = newline ? newline : end;
        if (!cut_) {
            size_t room = ring_->max_line_bytes() - partial_.size();
            size_t take = std::min(room, size_t(stop - at));
            partial_.append(at, take);
            if (partial_.size() >= ring_->max_line_bytes()) {
                ring_->add(now, is_stderr_, std::move(partial_) + " …[cut]");
                partial_.clear();
                cut_ = true;   // the rest of this line is dropped
            }
        }
        if (!newline) break;
        if (!cut_) ring_->add(now, is_stderr_, std::move(partial_));
        partial_.clear();
        cut_ = false;
        at = newline + 1;
    }
    if (ec) {
        flush_partial();
        auto on_eof = std::exchange(on_eof_, nullptr);
        close();   // at EOF the descriptor and the buffer are done with
        buffer_.reset();
        if (on_eof) on_eof();
        return;
    }
    read();
}

void PipeReader::flush_partial() {
    if (!partial_.empty() && !cut_) ring_->add(clock_.now_ns(), is_stderr_, std::move(partial_));
    partial_.clear();
}

}  // namespace draincheck
