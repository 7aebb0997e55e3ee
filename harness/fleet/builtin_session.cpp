#include "fleet/builtin_session.h"

#include "fleet/builtin_core.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <string>

namespace draincheck {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr int kMaxAttempts = 3;
constexpr uint64_t kBodyLimit = uint64_t(1) << 32;

bool is_idempotent(http::verb method) {
    switch (method) {
        case http::verb::get:
        case http::verb::head:
        case http::verb::put:
        case http::verb::delete_:
        case http::verb::options: return true;
        default: return false;
    }
}

BackendOutcome failure_outcome(const error_code& ec) {
    if (ec == beast::error::timeout) return BackendOutcome::timeout;
    if (ec == asio::error::connection_refused) return BackendOutcome::refused;
    return BackendOutcome::reset;
}

// Hop-by-hop fields belong to one connection; the balancer's connections are its own.
template <typename Fields>
void erase_hop_by_hop(Fields& fields) {
    fields.erase(http::field::connection);
    fields.erase(http::field::keep_alive);
    fields.erase(http::field::proxy_connection);
}

// A response whose body ends with the connection (no length, not chunked) needs a length once it is
// sent on a connection that stays open.
bool needs_length(const http::response<http::string_body>& res, bool head_request) {
    const unsigned status = res.result_int();
    if (head_request || status < 200 || status == 204 || status == 304) return false;
    return !res.has_content_length() && !res.chunked();
}

}  // namespace

// What one attempt came to.
struct BuiltinSession::Attempt {
    BackendOutcome outcome = BackendOutcome::reset;
    uint16_t status = 0;
    bool connect_failed = false;   // nothing was sent
    bool answered = false;         // response bytes arrived
    bool reused = false;
};

// What the client is told about the attempts behind an answer.
struct BuiltinSession::Reply {
    int replica = -1;              // the last replica tried, -1 if none
    int earlier_attempts = 0;
    bool head_request = false;
    bool keep_alive = true;        // the client's wish
    unsigned version = 11;         // the client's HTTP version
};

BuiltinSession::BuiltinSession(BuiltinCore& core, tcp::socket socket) : core_(core), client_(std::move(socket)) {
    core_.sessions.insert(this);
}

BuiltinSession::~BuiltinSession() { core_.sessions.erase(this); }

void BuiltinSession::close() {
    client_.close();
    if (backend_) backend_->close();
}

asio::awaitable<void> BuiltinSession::run() {
    while (!core_.stopping) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(kBodyLimit);
        auto [ec, n] = co_await http::async_read(client_, client_buffer_, parser, use_tuple);
        if (ec || core_.stopping) break;   // the client closed, sent garbage, or the balancer stops
        Request request = parser.release();
        if (!co_await serve(request)) break;
    }
    error_code ignored;
    client_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    client_.close();
}

// Returns whether the client connection can serve another request.
asio::awaitable<bool> BuiltinSession::serve(Request& request) {
    const uint64_t id = ++core_.next_request;
    Reply reply;
    reply.head_request = request.method() == http::verb::head;
    reply.keep_alive = request.keep_alive();
    reply.version = request.version();
    // With retries on, a refused connect (nothing was sent) goes to another replica whatever the
    // method; a connection that ended before any answer may have delivered the request, so only
    // idempotent methods go again then. With retries off the balancer behaves like a TCP-level one
    // (kube-proxy): whatever the first replica did is what the client gets.
    const bool retry_refused = core_.options.retry_idempotent;
    const bool retry_unanswered = core_.options.retry_idempotent && is_idempotent(request.method());

    erase_hop_by_hop(request);
    request.version(11);   // keep-alive towards the replicas whatever the client speaks

    // One deadline for the whole request, retries included.
    const auto deadline = SteadyClock::now() + core_.options.backend_timeout;
    std::array<int, kMaxAttempts> tried{};
    size_t tried_count = 0;
    ReplicaPtr race_replica;   // the keep-alive race: the same replica again, on a fresh connection
    int attempts = 0;
    while (attempts < kMaxAttempts && !core_.stopping) {
        const bool fresh = race_replica != nullptr;
        ReplicaPtr replica = fresh ? std::move(race_replica) : core_.pool.pick({tried.data(), tried_count});
        race_replica = nullptr;
        if (!replica) break;

        BackendAttempt record;
        record.started_ns = core_.clock.now_ns();
        record.request = id;
        record.replica = replica->index;
        record.retry = attempts > 0;
        reply.replica = replica->index;
        reply.earlier_attempts = attempts++;

        Attempt result;
        ++replica->in_flight;
        co_await attempt(*replica, request, fresh, deadline, result);
        --replica->in_flight;

        record.ended_ns = core_.clock.now_ns();
        record.status = result.status;
        record.outcome = result.outcome;
        record.reused = result.reused;
        core_.record(record);
        if (core_.stopping) co_return false;

        switch (result.outcome) {
            case BackendOutcome::ok:
            case BackendOutcome::http_error: co_return co_await forward_response(reply);
            case BackendOutcome::timeout:
                co_await send_error(504, "no answer from the replica in time\n", reply);
                co_return false;
            case BackendOutcome::refused: core_.refused_by(*replica); break;
            case BackendOutcome::reset: break;
        }
        if (result.answered) {
            // Died mid-answer: the client must see a broken response, never a clean-looking error.
            co_await abort_response(reply);
            co_return false;
        }
        if (result.connect_failed ? !retry_refused : !retry_unanswered) break;
        if (result.reused && !fresh && !result.connect_failed) {
            // A pooled connection the replica closed just as we sent: not the replica's fault.
            race_replica = std::move(replica);
            continue;
        }
        tried[tried_count++] = replica->index;
    }
    if (core_.stopping) co_return false;
    if (attempts == 0) {
        co_await send_error(503, "no healthy replica\n", reply);
    } else {
        co_await send_error(502, "every attempt failed\n", reply);
    }
    co_return false;
}

asio::awaitable<void> BuiltinSession::attempt(Replica& replica, const Request& request, bool fresh,
                                              SteadyClock::time_point deadline, Attempt& result) {
    BackendConnectionPtr connection = fresh ? nullptr : replica.take_idle();
    result.reused = connection != nullptr;
    if (!connection) {
        connection = std::make_unique<BackendConnection>(core_.io);
        backend_ = connection.get();
        connection->stream.expires_at(deadline);
        auto [ec] = co_await connection->stream.async_connect(replica.endpoint, use_tuple);
        backend_ = nullptr;
        if (ec) {
            result.outcome = failure_outcome(ec);
            result.connect_failed = true;
            co_return;
        }
        error_code ignored;
        connection->stream.socket().set_option(tcp::no_delay(true), ignored);
    }
    backend_ = connection.get();
    struct Forget {
        BackendConnection*& backend;
        ~Forget() { backend = nullptr; }
    } forget{backend_};

    connection->stream.expires_at(deadline);
    auto [write_ec, written] = co_await http::async_write(connection->stream, request, use_tuple);
    if (write_ec) {
        result.outcome = failure_outcome(write_ec);
        if (result.outcome == BackendOutcome::refused) result.outcome = BackendOutcome::reset;
        co_return;
    }

    error_code read_ec;
    do {
        // An interim 1xx answer (100 Continue) is not the response: read on.
        auto& parser = response_.emplace();
        parser.body_limit(kBodyLimit);
        parser.skip(request.method() == http::verb::head);
        std::tie(read_ec, std::ignore) =
            co_await http::async_read(connection->stream, connection->buffer, parser, use_tuple);
    } while (!read_ec && response_->get().result_int() < 200 && response_->get().result_int() != 101);
    auto& parser = *response_;
    result.answered = parser.got_some() || connection->buffer.size() > 0;
    if (parser.is_header_done()) result.status = uint16_t(parser.get().result_int());
    if (read_ec) {
        result.outcome = failure_outcome(read_ec);
        if (result.outcome == BackendOutcome::refused) result.outcome = BackendOutcome::reset;
        connection->close();
        co_return;
    }
    result.outcome = result.status >= 500 ? BackendOutcome::http_error : BackendOutcome::ok;
    // Back to the pool only if both sides agree to keep it and nothing unasked follows the answer.
    if (parser.get().keep_alive() && connection->buffer.size() == 0 && !core_.stopping) {
        connection->stream.expires_never();
        replica.put_idle(std::move(connection));
    } else {
        connection->close();
    }
}

asio::awaitable<bool> BuiltinSession::forward_response(const Reply& reply) {
    auto& res = response_->get();
    erase_hop_by_hop(res);
    if (needs_length(res, reply.head_request)) res.prepare_payload();
    res.set(kReplicaHeader, std::to_string(reply.replica));
    if (reply.earlier_attempts > 0) res.set(kRetriedHeader, std::to_string(reply.earlier_attempts));
    res.version(reply.version);
    res.keep_alive(reply.keep_alive);
    error_code ec;
    if (reply.head_request) {
        // A HEAD answer announces a body it does not carry: the header block is all there is.
        http::response_serializer<http::string_body> serializer(res);
        std::tie(ec, std::ignore) = co_await http::async_write_header(client_, serializer, use_tuple);
    } else {
        std::tie(ec, std::ignore) = co_await http::async_write(client_, res, use_tuple);
    }
    response_.reset();
    co_return !ec && reply.keep_alive;
}

// The header block (tagged) when it had arrived, then the connection ends short of the body the
// header announced: the client sees a truncated response, as it would without a balancer.
asio::awaitable<void> BuiltinSession::abort_response(const Reply& reply) {
    if (response_ && response_->is_header_done()) {
        auto& res = response_->get();
        erase_hop_by_hop(res);
        res.set(kReplicaHeader, std::to_string(reply.replica));
        if (reply.earlier_attempts > 0) res.set(kRetriedHeader, std::to_string(reply.earlier_attempts));
        res.version(reply.version);
        http::response_serializer<http::string_body> serializer(res);
        co_await http::async_write_header(client_, serializer, use_tuple);
    }
    response_.reset();
    error_code ignored;
    client_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    client_.close();
}

asio::awaitable<void> BuiltinSession::send_error(unsigned status, const char* text, const Reply& reply) {
    http::response<http::string_body> res{http::int_to_status(status), reply.version};
    res.set(http::field::content_type, "text/plain");
    if (reply.replica >= 0) res.set(kReplicaHeader, std::to_string(reply.replica));
    if (reply.earlier_attempts > 0) res.set(kRetriedHeader, std::to_string(reply.earlier_attempts));
    res.keep_alive(false);
    if (!reply.head_request) res.body() = text;
    res.prepare_payload();
    response_.reset();
    co_await http::async_write(client_, res, use_tuple);
}

}  // namespace draincheck
