#include "proxy/relay_connection.h"

#include "proxy/fault_proxy.h"
#include "proxy/socket_owner.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <limits>

namespace draincheck {

namespace asio = boost::asio;
using Closer = ProxyConnection::Closer;
using toxics::Flow;

namespace {

// Above this many queued bytes in one direction the proxy stops reading that direction, so a slow
// toxic turns into TCP back-pressure on the sender instead of unbounded memory.
constexpr size_t max_queued_bytes = 1024 * 1024;

// Full buffers read in a row before a direction lets other connections run.
constexpr int max_rounds_per_turn = 16;

std::string describe(const boost::system::error_code& ec) {
    if (ec == asio::error::eof) return "EOF";
    if (ec == asio::error::connection_reset) return "connection reset";
    if (ec == asio::error::broken_pipe) return "broken pipe";
    if (ec == asio::error::connection_refused) return "upstream refused";
    return ec.message();
}

}  // namespace

RelayConnection::RelayConnection(Context context, uint64_t id, tcp::socket client, SteadyClock::time_point opened_at)
    : context_(std::move(context)),
      id_(id),
      opened_at_(opened_at),
      client_(std::move(client)),
      upstream_(client_.get_executor()),
      up_(Flow::up, client_, upstream_, Closer::target, Closer::dependency, client_.get_executor()),
      down_(Flow::down, upstream_, client_, Closer::dependency, Closer::target, client_.get_executor()),
      deadline_timer_(client_.get_executor()) {}

void RelayConnection::connect(const std::vector<tcp::endpoint>& upstream) {
    asio::async_connect(upstream_, upstream,
                        [self = shared_from_this()](const boost::system::error_code& ec, const tcp::endpoint&) {
                            if (self->closed_) return;
                            if (ec) {
                                self->record_close(Closer::dependency, describe(ec));
                                self->close_sockets(false);
                                return;
                            }
                            // A relay must not add Nagle's delays to small writes.
                            boost::system::error_code ignored;
                            self->client_.set_option(tcp::no_delay(true), ignored);
                            self->upstream_.set_option(tcp::no_delay(true), ignored);
                            self->client_.non_blocking(true, ignored);
                            self->upstream_.non_blocking(true, ignored);
                            self->relay(self->up_);
                            self->relay(self->down_);
                        });
}

// --- the relay loop ---------------------------------------------------------------------------
//
// Reads and writes are plain non-blocking calls on the one buffer; the direction only waits (for
// readability, or for a write the peer is not ready to take) when a call cannot go on. A short
// read means the socket was drained, so the next step is a wait, not a read that would most likely
// find nothing. Starting a wait re-arms readiness, so data that came meanwhile is not missed.

void RelayConnection::relay(Direction& d) {
    for (int round = 0; round < max_rounds_per_turn; ++round) {
        boost::system::error_code ec;
        const size_t n = d.from.read_some(asio::buffer(d.buffer), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
            wait_readable(d);
            return;
        }
        if (ec) {
            source_ended(d, ec);
            return;
        }
        context_.log->add_bytes(id_, d.flow == Flow::up ? n : 0, d.flow == Flow::down ? n : 0);

        if (!d.queue.empty() || shaping(d.flow)) {
            enqueue_shaped(d, n);
            pump(d);
            if (closed_ || d.done || d.source_done) return;
            if (d.queued_bytes > max_queued_bytes) {
                d.paused = true;   // on_piece_written resumes reading once the queue drains
                return;
            }
            continue;
        }

        // No toxic in the way: write straight from the read buffer.
        const size_t written = d.to.write_some(asio::buffer(d.buffer.data(), n), ec);
        if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
            destination_failed(d, ec);
            return;
        }
        if (written < n) {
            d.writing = true;
            asio::async_write(d.to, asio::buffer(d.buffer.data() + written, n - written),
                              [self = shared_from_this(), &d](const boost::system::error_code& ec, size_t) {
                                  self->on_direct_write(d, ec);
                              });
            return;
        }
        if (n < d.buffer.size()) {
            wait_readable(d);
            return;
        }
    }
    // A sender that keeps the buffer full gets its turn back after the other connections had theirs.
    asio::post(client_.get_executor(), [self = shared_from_this(), &d] {
        if (!self->closed_ && !d.done) self->relay(d);
    });
}

void RelayConnection::wait_readable(Direction& d) {
    d.from.async_wait(tcp::socket::wait_read, [self = shared_from_this(), &d](const boost::system::error_code&) {
        // Errors show up in the read that follows.
        if (!self->closed_ && !d.done) self->relay(d);
    });
}

void RelayConnection::on_direct_write(Direction& d, const boost::system::error_code& ec) {
    d.writing = false;
    if (closed_ || d.done) return;
    if (ec) {
        destination_failed(d, ec);
        return;
    }
    // The source may have sent more while this write waited: read before waiting.
    relay(d);
}

// --- the release queue ------------------------------------------------------------------------

void RelayConnection::enqueue_shaped(Direction& d, size_t n) {
    const auto now = SteadyClock::now();
    size_t piece_max = std::numeric_limits<size_t>::max();
    for (const auto& [id, link] : links_) {
        if (link->shapes(d.flow)) piece_max = std::min(piece_max, std::max<size_t>(1, link->max_chunk(d.flow)));
    }
    for (size_t offset = 0; offset < n;) {
        toxics::Chunk chunk;
        chunk.flow = d.flow;
        chunk.size = std::min(piece_max, n - offset);
        chunk.read_at = now;
        chunk.release = now;
        const size_t read_size = chunk.size;
        for (const auto& [id, link] : links_) {
            if (!link->shapes(d.flow)) continue;
            link->shape(chunk);
            if (chunk.drop) break;
        }
        if (!chunk.drop) {
            const char* begin = d.buffer.data() + offset;
            push(d, Piece{std::vector<char>(begin, begin + chunk.size), chunk.release, chunk.then});
        }
        offset += read_size;
        if (chunk.then && !chunk.drop) {
            // Nothing past the point where the connection is to end is passed on.
            d.source_done = true;
            break;
        }
    }
}

void RelayConnection::push(Direction& d, Piece piece) {
    piece.release = std::max(piece.release, d.last_release);
    d.last_release = piece.release;
    d.queued_bytes += piece.bytes.size();
    d.queue.push_back(std::move(piece));
}

void RelayConnection::pump(Direction& d) {
    while (!closed_ && !d.done && !d.writing && !d.queue.empty()) {
        Piece& head = d.queue.front();
        if (head.release > SteadyClock::now()) {
            if (d.timer_armed) return;
            d.timer_armed = true;
            d.timer.expires_at(head.release);
            d.timer.async_wait([self = shared_from_this(), &d](const boost::system::error_code& ec) {
                d.timer_armed = false;
                if (ec || self->closed_) return;
                self->pump(d);
            });
            return;
        }
        if (head.end_of_stream) {
            d.queue.pop_front();
            pass_on_close(d);
            return;
        }
        if (head.bytes.empty()) {
            const toxics::Ending then = std::move(head.then);
            d.queue.pop_front();
            if (then) {
                end(Closer::proxy, then.detail, then.kind == toxics::Ending::Kind::reset);
                return;
            }
            continue;
        }
        d.writing = true;
        asio::async_write(d.to, asio::buffer(head.bytes),
                          [self = shared_from_this(), &d](const boost::system::error_code& ec, size_t) {
                              self->on_piece_written(d, ec);
                          });
        return;
    }
}

void RelayConnection::on_piece_written(Direction& d, const boost::system::error_code& ec) {
    d.writing = false;
    if (closed_ || d.done) return;
    if (ec) {
        destination_failed(d, ec);
        return;
    }
    Piece written = std::move(d.queue.front());
    d.queue.pop_front();
    d.queued_bytes -= written.bytes.size();
    if (written.then) {
        end(Closer::proxy, written.then.detail, written.then.kind == toxics::Ending::Kind::reset);
        return;
    }
    pump(d);
    if (d.paused && d.queued_bytes <= max_queued_bytes && !closed_ && !d.done) {
        d.paused = false;
        relay(d);
    }
}

// --- closing ----------------------------------------------------------------------------------

void RelayConnection::source_ended(Direction& d, const boost::system::error_code& ec) {
    // Whether the target's process is exiting races its exit: look before anything else.
    const bool exiting = d.from_side == Closer::target && target_owner_exiting();
    // The dependency closing while the target's close is still held back closed by itself: it was
    // told goodbye (Redis closes after answering QUIT), not told of the close -- unless draincheck
    // itself had begun to stop it.
    if (d.from_side == Closer::dependency && up_.source_done && !up_.done && !harness_acted_)
        context_.log->mark_dependency_closed_by_itself(id_);
    record_close(d.from_side, describe(ec), exiting);
    d.source_done = true;

    Nanos delay{0};
    for (const auto& [id, link] : links_) delay = std::max(delay, link->close_delay(d.flow));
    // A process that closes a connection and exits at once cannot be told from one the kernel
    // cleaned up after, except by the dependency: give it a moment to close on its own first.
    if (exiting) delay = std::max(delay, FaultProxy::kGoodbyeHold);
    Piece end_of_stream;
    end_of_stream.release = SteadyClock::now() + delay;
    end_of_stream.end_of_stream = true;
    push(d, std::move(end_of_stream));
    pump(d);
}

void RelayConnection::destination_failed(Direction& d, const boost::system::error_code& ec) {
    const bool exiting = d.to_side == Closer::target && target_owner_exiting();
    record_close(d.to_side, describe(ec), exiting);
    // The destination is gone: what is still queued for it can never be delivered. A read still
    // pending on the source is ended when both sockets close.
    d.source_done = true;
    d.done = true;
    d.queue.clear();
    d.queued_bytes = 0;
    d.timer.cancel();
    maybe_finish();
}

void RelayConnection::pass_on_close(Direction& d) {
    // Half-close: the destination sees EOF but can still send the other way.
    boost::system::error_code ignored;
    d.to.shutdown(tcp::socket::shutdown_send, ignored);
    d.done = true;
    maybe_finish();
}

void RelayConnection::maybe_finish() {
    if (up_.done && down_.done) close_sockets(false);
}

void RelayConnection::end(Closer by, const std::string& detail, bool reset_client) {
    if (closed_) return;
    record_close(by, detail);
    close_sockets(reset_client);
}

void RelayConnection::close_sockets(bool reset_client) {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    if (reset_client) client_.set_option(asio::socket_base::linger(true, 0), ignored);
    client_.close(ignored);
    upstream_.close(ignored);
    up_.timer.cancel();
    down_.timer.cancel();
    deadline_timer_.cancel();
    if (context_.on_finished) context_.on_finished(id_);
}

void RelayConnection::record_close(Closer by, const std::string& detail, bool owner_exiting) {
    if (close_recorded_) return;
    close_recorded_ = true;
    context_.log->close(id_, context_.clock.now_ns(), by, detail, owner_exiting);
}

bool RelayConnection::target_owner_exiting() {
    if (close_recorded_ || !owner_pid_) return false;
    return process_exiting(*owner_pid_);
}

// --- toxics -----------------------------------------------------------------------------------

void RelayConnection::attach(uint64_t toxic_id, std::unique_ptr<toxics::ToxicLink> link) {
    if (closed_) return;
    links_.emplace_back(toxic_id, std::move(link));
    update_toxic_state();
}

void RelayConnection::detach(uint64_t toxic_id) {
    if (closed_) return;
    std::erase_if(links_, [toxic_id](const auto& entry) { return entry.first == toxic_id; });
    update_toxic_state();
}

void RelayConnection::update_toxic_state() {
    shaping_ = {false, false};
    std::optional<SteadyClock::time_point> deadline;
    for (const auto& [id, link] : links_) {
        shaping_[0] = shaping_[0] || link->shapes(Flow::up);
        shaping_[1] = shaping_[1] || link->shapes(Flow::down);
        if (auto at = link->deadline(); at && (!deadline || *at < *deadline)) deadline = at;
    }
    // Re-armed on every change; a stale expiry is recognised in on_deadline by looking again.
    deadline_timer_.cancel();
    if (!deadline) return;
    deadline_timer_.expires_at(*deadline);
    deadline_timer_.async_wait(
        [self = shared_from_this()](const boost::system::error_code& ec) { self->on_deadline(ec); });
}

void RelayConnection::on_deadline(const boost::system::error_code& ec) {
    if (ec || closed_) return;
    const auto now = SteadyClock::now();
    for (const auto& [id, link] : links_) {
        if (auto at = link->deadline(); at && *at <= now) {
            const toxics::Ending ending = link->at_deadline();
            if (ending) {
                end(Closer::proxy, ending.detail, ending.kind == toxics::Ending::Kind::reset);
                return;
            }
        }
    }
}

}  // namespace draincheck
