#include "load/client_connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <cerrno>

namespace draincheck {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

uint32_t to_us(int64_t ns) {
    if (ns < 0) return 0;
    int64_t us = ns / 1000;
    return us >= int64_t(RequestRecord::kNever) ? RequestRecord::kNever - 1 : uint32_t(us);
}

// After a FIN: has an RST followed it by now (the socket is CLOSED, not CLOSE_WAIT)? The server's
// kernel resets a connection closed with unread data in it, or one data arrives on after its close:
// either way the server's application never read what we sent last.
bool reset_after_fin(asio::ip::tcp::socket& socket) {
    tcp_info info{};
    socklen_t len = sizeof info;
    return ::getsockopt(socket.native_handle(), IPPROTO_TCP, TCP_INFO, &info, &len) == 0 && info.tcpi_state == TCP_CLOSE;
}

bool is_reset(const error_code& ec) {
    return ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::connection_aborted;
}

}  // namespace

ClientConnection::ClientConnection(asio::io_context& io, const ConnectionSettings& settings,
                                   const RequestTemplates& templates, ConnectionOwner& owner)
    : settings_(settings), templates_(templates), owner_(owner), socket_(io), timer_(io), delay_(io) {}

void ClientConnection::close() {
    error_code ignored;
    socket_.close(ignored);
    served_ = 0;
    connection_id_ = 0;
}

// A keep-alive connection can have been closed by the server while it sat idle. Real clients
// notice that before reusing it (Go's Transport, Node's agent); so do we, so that only the true
// race — the close arriving while our request is on the wire — is left for `closed_idle`.
bool ClientConnection::still_alive() {
    char byte;
    ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

uint32_t ClientConnection::since_start_us() const {
    return to_us(settings_.clock->now_ns() - started_ns_);
}

void ClientConnection::begin(const Job& job) {
    ++generation_;
    timed_out_ = false;
    response_bytes_ = 0;
    buffered_ = 0;
    request_ = &templates_.at(job.template_index);
    reader_.emplace(request_->head);

    record_ = RequestRecord{};
    record_.intended_us = to_us(job.intended_ns);
    record_.template_index = job.template_index;
    if (job.waited_for_connection) record_.flags |= kWaitedForConnection;

    if (socket_.is_open() && !still_alive()) close();
    bool reuse = socket_.is_open();

    started_ns_ = settings_.clock->now_ns();
    record_.started_us = to_us(started_ns_);
    timer_.expires_after(settings_.timeout);
    timer_.async_wait([this, g = generation_](const error_code& ec) { on_timeout(ec, g); });

    if (reuse) {
        record_.flags |= kReusedConnection;
        record_.connection_id = connection_id_;
        do_write();
    } else {
        do_connect();
    }
}

void ClientConnection::on_timeout(const error_code& ec, uint64_t generation) {
    if (ec || generation != generation_) return;
    timed_out_ = true;
    error_code ignored;
    socket_.close(ignored);   // completes the pending operation with operation_aborted
}

void ClientConnection::do_connect() {
    connection_id_ = settings_.next_connection_id->fetch_add(1, std::memory_order_relaxed);
    served_ = 0;
    record_.connection_id = connection_id_;
    socket_.async_connect(settings_.endpoint, [this](const error_code& ec) { on_connect(ec); });
}

void ClientConnection::on_connect(const error_code& ec) {
    if (timed_out_) return finish(EndKind::timed_out);
    if (ec) {
        close();
        if (ec == asio::error::no_descriptors || ec.value() == ENFILE)
            settings_.out_of_descriptors->store(true, std::memory_order_relaxed);
        return finish(ec == asio::error::connection_refused ? EndKind::connect_refused
                                                            : EndKind::connect_failed);
    }
    record_.connected_us = since_start_us();
    error_code ignored;
    if (settings_.note_port) {
        auto local = socket_.local_endpoint(ignored);
        if (!ignored) settings_.note_port(connection_id_, local.port());
    }
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    do_write();
}

void ClientConnection::do_write() {
    asio::async_write(socket_, asio::buffer(request_->bytes),
                      [this](const error_code& ec, size_t) { on_write(ec); });
}

void ClientConnection::on_write(const error_code& ec) {
    if (timed_out_) return finish(EndKind::timed_out);
    if (ec) return finish(EndKind::write_failed, is_reset(ec) ? kPeerReset : 0);
    record_.written_us = since_start_us();
    record_.flags |= kFullyWritten;
    do_read();
}

void ClientConnection::do_read() {
    socket_.async_read_some(asio::buffer(buffer_.data() + buffered_, buffer_.size() - buffered_),
                            [this](const error_code& ec, size_t n) { on_read(ec, n); });
}

void ClientConnection::on_read(const error_code& ec, size_t n) {
    if (timed_out_) return finish(EndKind::timed_out);
    if (n > 0) {
        if (record_.first_byte_us == RequestRecord::kNever) record_.first_byte_us = since_start_us();
        response_bytes_ += n;
        buffered_ += n;
        error_code parse_ec;
        size_t used = reader_->put(asio::buffer(buffer_.data(), buffered_), parse_ec);
        if (used > 0 && used < buffered_) std::memmove(buffer_.data(), buffer_.data() + used, buffered_ - used);
        buffered_ -= used;
        if (reader_->is_header_done()) record_.flags |= kHeadersComplete;
        if (reader_->is_done()) return finish(EndKind::complete);
        if (parse_ec && parse_ec != boost::beast::http::error::need_more) {
            // Not HTTP we can read: the exchange is broken; count what we got as a cut response.
            return finish(EndKind::peer_closed);
        }
        if (buffered_ == buffer_.size()) return finish(EndKind::peer_closed);  // header too large
    }
    if (ec == asio::error::eof) {
        if (reader_->is_header_done() && reader_->need_eof()) {
            error_code eof_ec;
            reader_->put_eof(eof_ec);
            if (!eof_ec && reader_->is_done()) return finish(EndKind::complete, kPeerEof);
        }
        return finish(EndKind::peer_closed, uint8_t(kPeerEof | (reset_after_fin(socket_) ? kPeerReset : 0)));
    }
    if (ec) return finish(EndKind::peer_closed, is_reset(ec) ? kPeerReset : 0);
    do_read();
}

void ClientConnection::finish(EndKind end, uint8_t extra_flags) {
    ++generation_;
    timer_.cancel();
    record_.end_us = since_start_us();
    record_.flags |= extra_flags;
    if (end == EndKind::timed_out) record_.flags |= kLocalTimeout;
    record_.response_bytes = response_bytes_ > UINT32_MAX ? UINT32_MAX : uint32_t(response_bytes_);
    record_.status = uint16_t(reader_->status());
    if (reader_->replica() >= 0) record_.replica = uint8_t(reader_->replica() + 1);
    if (reader_->retries() > 0) record_.lb_retries = uint8_t(reader_->retries());

    ClassifyInput in;
    in.end = end;
    in.status = record_.status;
    in.reused_connection = record_.has(kReusedConnection);
    in.response_bytes = record_.response_bytes;
    in.written_to_end_us = record_.written_us == RequestRecord::kNever
                               ? record_.end_us
                               : record_.end_us - record_.written_us;
    in.closed_idle_window_us = settings_.closed_idle_window_us;
    in.reset_unread = record_.has(kPeerReset);
    record_.outcome = classify(in);

    bool keep_open = end == EndKind::complete && settings_.keep_alive && reader_->keep_alive() &&
                     !(extra_flags & kPeerEof) && socket_.is_open();
    if (end == EndKind::complete) ++served_;
    if (!keep_open) close();
    owner_.on_request_done(*this, record_, keep_open);
}

}  // namespace draincheck
