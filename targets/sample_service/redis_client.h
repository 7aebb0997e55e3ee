#pragma once
// A minimal asynchronous Redis client (RESP2) on the service's io_context.
//
// Hand-written rather than hiredis: the service runs everything on one single-threaded Asio event
// loop. A client on that same loop, with its own per-command timeouts, needs no second event loop,
// no adapter between hiredis' callbacks and Asio, and no locking; it is also small enough to read.
//
// One connection at a time. Commands are pipelined on it and their replies matched first in, first
// out. Each command has a deadline (counted from when it was issued, connecting included); when it
// passes, or the connection fails, the connection is dropped and every waiting command fails at once.
// The next command connects again. Callbacks never run inside the call that issued the command.
// The client must outlive the io_context's run().
#include "resp.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sample {

struct RedisAddress {
    std::string host;
    uint16_t port = 6379;
};

// "HOST:PORT", "HOST" (port 6379), or the same after "redis://"; an IPv6 host goes in brackets.
// Nothing if the text is not of that form (a password or database in the URL is not taken).
std::optional<RedisAddress> parse_redis_address(std::string_view text);

// The outcome of one command: Redis' reply (which may be an error reply), or why there is none.
struct RedisResult {
    std::optional<RedisReply> reply;
    std::string failure;   // when !reply: "timeout after 500ms", "connection refused", ...
};

class RedisClient {
public:
    struct Options {
        RedisAddress address;
        std::chrono::milliseconds command_timeout{500};
        std::chrono::milliseconds connect_timeout{500};
        std::function<void(const std::string&)> log;   // connection events, one line each
    };
    using Callback = std::function<void(RedisResult)>;

    RedisClient(boost::asio::io_context& io, Options options);
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    // Connects now rather than on the first command (a no-op if connected or connecting).
    void connect();
    // Sends `args` (e.g. {"INCR", "key"}) and calls `done` with the reply, or the failure.
    void command(std::vector<std::string> args, Callback done);
    // Sends QUIT, waits for +OK (or the timeout), closes the socket, then calls `done`.
    // Commands issued afterwards fail at once.
    void quit(std::function<void()> done);
    // Closes the socket at once; waiting commands fail, and so do later ones.
    void close_now();

    bool connected() const { return state_ == State::connected; }

private:
    enum class State { idle, connecting, connected, quitting, closed };
    struct Connection;
    struct Waiting {
        Callback done;
        std::chrono::steady_clock::time_point deadline;
    };

    void start_connect();
    void on_connected(const std::shared_ptr<Connection>& conn);
    void flush();
    void read_more(const std::shared_ptr<Connection>& conn);
    void on_data(const std::shared_ptr<Connection>& conn);
    void arm_deadline();
    void drop_connection(const std::string& why);
    void close_socket();
    void fail_waiting(const std::string& why);
    void fail_soon(Callback done, std::string why);
    std::string where() const;
    void log(const std::string& line) const;

    boost::asio::io_context& io_;
    Options opt_;
    State state_ = State::idle;
    std::shared_ptr<Connection> conn_;   // the current attempt or connection; handlers of older ones do nothing
    std::deque<Waiting> waiting_;        // commands sent or queued, oldest first
    std::string outbox_;                 // encoded commands not yet handed to a write
    boost::asio::steady_timer connect_timer_;
    boost::asio::steady_timer deadline_timer_;   // the oldest waiting command's deadline
    bool outage_logged_ = false;         // log a failure to connect once, not at every retry
};

}  // namespace sample
