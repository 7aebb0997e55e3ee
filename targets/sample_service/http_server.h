#pragma once
// A small keep-alive HTTP/1.1 server that knows how many requests are in flight and can drain:
// stop accepting (closing the listener, or just no longer calling accept), close idle connections,
// let busy ones finish their response with `Connection: close`, and report when none is left.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <set>

namespace sample {

class Session;

class HttpServer {
public:
    HttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at,
               std::chrono::milliseconds ready_delay);
    void start();

    // Stops taking new connections and finishes the current ones, then calls `on_drained`.
    // close_listener = false leaves the listening socket open (connections pile up unserved).
    void drain(bool close_listener, std::function<void()> on_drained);

    size_t busy_sessions() const;
    bool draining() const { return draining_; }
    bool ready() const;

    void add(Session* s) { sessions_.insert(s); }
    void remove(Session* s);

private:
    void do_accept();
    boost::asio::io_context& io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::set<Session*> sessions_;
    bool draining_ = false;
    std::function<void()> on_drained_;
    std::chrono::steady_clock::time_point ready_at_;
};

}  // namespace sample
