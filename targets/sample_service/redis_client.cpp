#include "redis_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <charconv>
#include <utility>

namespace sample {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

std::optional<RedisAddress> parse_redis_address(std::string_view text) {
    if (text.starts_with("redis://")) text.remove_prefix(8);
    if (text.ends_with("/")) text.remove_suffix(1);
    RedisAddress out;
    std::string_view host = text, port;
    if (text.starts_with("[")) {   // [IPv6]:port
        size_t close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = text.substr(1, close - 1);
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest[0] != ':') return std::nullopt;
            port = rest.substr(1);
        }
    } else if (size_t colon = text.find(':'); colon != std::string_view::npos) {
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (host.empty() || host.find_first_of("/@ ") != std::string_view::npos) return std::nullopt;
    out.host = std::string(host);
    if (!port.empty() || text.ends_with(":")) {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) return std::nullopt;
        out.port = uint16_t(value);
    }
    return out;
}

// One connection attempt and, once it succeeds, the connection. Handlers hold it alive and compare
// it with the client's current one, so a late handler of a dropped connection does nothing.
struct RedisClient::Connection {
    explicit Connection(asio::io_context& io) : resolver(io), socket(io) {}
    tcp::resolver resolver;
    tcp::socket socket;
    std::array<char, 4096> chunk{};
    std::string inbox;          // received bytes not yet parsed into a reply
    std::string write_buffer;   // what the write in progress sends
    bool writing = false;
};

RedisClient::RedisClient(asio::io_context& io, Options options)
    : io_(io), opt_(std::move(options)), connect_timer_(io), deadline_timer_(io) {}

RedisClient::~RedisClient() { close_socket(); }

void RedisClient::connect() {
    if (state_ == State::idle) start_connect();
}

void RedisClient::command(std::vector<std::string> args, Callback done) {
    if (state_ == State::quitting || state_ == State::closed) return fail_soon(std::move(done), "client closed");
    waiting_.push_back({std::move(done), Clock::now() + opt_.command_timeout});
    outbox_ += encode_command(args);
    if (waiting_.size() == 1) arm_deadline();
    if (state_ == State::idle) start_connect();
    else flush();
}

void RedisClient::quit(std::function<void()> done) {
    if (state_ == State::quitting || state_ == State::closed) {
        asio::post(io_, std::move(done));
        return;
    }
    if (state_ != State::connected) {   // nothing open to say goodbye on
        close_now();
        log("redis: closed (no connection was open)");
        asio::post(io_, std::move(done));
        return;
    }
    state_ = State::quitting;
    waiting_.push_back({[this, done = std::move(done)](RedisResult r) {
                            bool ok = r.reply && r.reply->type == RedisReply::Type::simple_string && r.reply->text == "OK";
                            close_socket();
                            state_ = State::closed;
                            log(ok ? "redis: closed (QUIT)"
                                   : "redis: closed (QUIT got no +OK: " + (r.reply ? r.reply->text : r.failure) + ")");
                            done();
                        },
                        Clock::now() + opt_.command_timeout});
    outbox_ += encode_command({"QUIT"});
    if (waiting_.size() == 1) arm_deadline();
    flush();
}

void RedisClient::close_now() {
    bool had_connection = state_ == State::connected || state_ == State::quitting;
    close_socket();
    state_ = State::closed;
    if (had_connection) log("redis: closed (without QUIT)");
    fail_waiting("client closed");
}

void RedisClient::start_connect() {
    state_ = State::connecting;
    auto conn = std::make_shared<Connection>(io_);
    conn_ = conn;
    connect_timer_.expires_after(opt_.connect_timeout);
    connect_timer_.async_wait([this, conn](error_code ec) {
        if (ec || conn != conn_ || state_ != State::connecting) return;
        drop_connection("connect timeout after " + std::to_string(opt_.connect_timeout.count()) + "ms");
    });
    conn->resolver.async_resolve(
        opt_.address.host, std::to_string(opt_.address.port),
        [this, conn](error_code ec, const tcp::resolver::results_type& endpoints) {
            if (conn != conn_) return;
            if (ec) return drop_connection("resolve: " + ec.message());
            asio::async_connect(conn->socket, endpoints, [this, conn](error_code ec, const tcp::endpoint&) {
                if (conn != conn_) return;
                if (ec) return drop_connection(ec.message());
                on_connected(conn);
            });
        });
}

void RedisClient::on_connected(const std::shared_ptr<Connection>& conn) {
    connect_timer_.cancel();
    state_ = State::connected;
    error_code ignored;
    conn->socket.set_option(tcp::no_delay(true), ignored);
    outage_logged_ = false;
    log("redis: connected to " + where());
    read_more(conn);
    flush();
}

// Hands every queued command to one write; commands queued meanwhile go in the next one.
void RedisClient::flush() {
    if (state_ != State::connected && state_ != State::quitting) return;
    if (!conn_ || conn_->writing || outbox_.empty()) return;
    auto conn = conn_;
    conn->write_buffer = std::exchange(outbox_, {});
    conn->writing = true;
    asio::async_write(conn->socket, asio::buffer(conn->write_buffer), [this, conn](error_code ec, size_t) {
        if (conn != conn_) return;
        conn->writing = false;
        if (ec) return drop_connection("write: " + ec.message());
        flush();
    });
}

void RedisClient::read_more(const std::shared_ptr<Connection>& conn) {
    conn->socket.async_read_some(asio::buffer(conn->chunk), [this, conn](error_code ec, size_t n) {
        if (conn != conn_) return;
        if (ec) return drop_connection(ec == asio::error::eof ? "closed by the server" : ec.message());
        conn->inbox.append(conn->chunk.data(), n);
        on_data(conn);
    });
}

// Matches each complete reply with the oldest waiting command.
void RedisClient::on_data(const std::shared_ptr<Connection>& conn) {
    for (;;) {
        RedisReply reply;
        size_t used = 0;
        ParseStatus status = parse_reply(conn->inbox, reply, used);
        if (status == ParseStatus::incomplete) break;
        if (status == ParseStatus::invalid) return drop_connection("protocol error");
        conn->inbox.erase(0, used);
        if (waiting_.empty()) return drop_connection("a reply to no command");
        Callback done = std::move(waiting_.front().done);
        waiting_.pop_front();
        done(RedisResult{std::move(reply), {}});
        if (conn != conn_) return;   // the callback closed the connection (QUIT, close_now)
    }
    arm_deadline();
    read_more(conn);
}

// One timer for the oldest waiting command: replies come in order, so it is the first to be late.
void RedisClient::arm_deadline() {
    if (waiting_.empty()) {
        deadline_timer_.cancel();
        return;
    }
    deadline_timer_.expires_at(waiting_.front().deadline);
    deadline_timer_.async_wait([this](error_code ec) {
        if (ec || waiting_.empty()) return;
        if (Clock::now() < waiting_.front().deadline) return arm_deadline();
        // The late reply may still come; the connection cannot be trusted to match replies any more.
        drop_connection("timeout after " + std::to_string(opt_.command_timeout.count()) + "ms");
    });
}

void RedisClient::drop_connection(const std::string& why) {
    State was = state_;
    close_socket();
    if (was == State::connected) {
        log("redis: connection lost (" + why + ")");
        outage_logged_ = true;
    } else if (was == State::connecting && !outage_logged_) {
        log("redis: cannot connect to " + where() + " (" + why + "); will retry on the next command");
        outage_logged_ = true;
    }
    if (was == State::connected || was == State::connecting) state_ = State::idle;
    fail_waiting(why);
}

void RedisClient::close_socket() {
    outbox_.clear();
    connect_timer_.cancel();
    if (auto conn = std::exchange(conn_, nullptr)) {
        error_code ignored;
        conn->resolver.cancel();
        conn->socket.shutdown(tcp::socket::shutdown_both, ignored);
        conn->socket.close(ignored);
    }
}

void RedisClient::fail_waiting(const std::string& why) {
    deadline_timer_.cancel();
    for (auto& w : std::exchange(waiting_, {})) fail_soon(std::move(w.done), why);
}

void RedisClient::fail_soon(Callback done, std::string why) {
    asio::post(io_, [done = std::move(done), why = std::move(why)] { done(RedisResult{std::nullopt, why}); });
}

std::string RedisClient::where() const {
    const auto& a = opt_.address;
    bool ipv6 = a.host.find(':') != std::string::npos;
    return (ipv6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
}

void RedisClient::log(const std::string& line) const {
    if (opt_.log) opt_.log(line);
}

}  // namespace sample
