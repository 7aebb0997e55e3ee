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
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sample {

class Session;

// An answer from the routes the server hands over (see Routes).
struct Answer {
    unsigned status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;   // besides Content-Type and Content-Length
};
using Respond = std::function<void(Answer)>;

// Routes that need the service's backends (Redis, the session store). The server keeps its own
// (/, /work, /stream) and the drain and readiness part of /healthz. `respond` is called once, now or
// later; the request counts as in flight until then, so a drain waits for it.
class Routes {
public:
    virtual ~Routes() = default;
    // Returns false if `target` is none of its routes (the server then answers 404).
    virtual bool handle(std::string_view method, std::string_view target, Respond respond) = 0;
    // /healthz, once the server itself is ready and not draining: are the backends reachable?
    virtual void health(Respond respond) = 0;
};

class HttpServer {
public:
    HttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at,
               std::chrono::milliseconds ready_delay);
    void start();
    // Routes to hand over what the server does not serve itself; not owned, may be null.
    void set_routes(Routes* routes) { routes_ = routes; }
    Routes* routes() const { return routes_; }

    // Stops taking new connections and finishes the current ones, then calls `on_drained`.
    // close_listener = false leaves the listening socket open (connections pile up unserved).
    void drain(bool close_listener, std::function<void()> on_drained);
    // A broken drain: answers every request in flight whose response has not begun with `status`, at
    // once, instead of finishing it (call after drain(), which then completes as those answers go out).
    void fail_in_flight(unsigned status);
    // A broken drain: stops accepting (closes the listener) and closes idle connections, but never
    // answers the requests in flight; their connections stay open and silent until the process exits.
    void abandon();
    bool abandoning() const { return abandoning_; }
    // Keeps a session that will never answer alive (its connection open) until the process exits.
    void keep_silent(std::shared_ptr<Session> s) { silent_.push_back(std::move(s)); }

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
    bool abandoning_ = false;
    std::vector<std::shared_ptr<Session>> silent_;
    std::function<void()> on_drained_;
    std::chrono::steady_clock::time_point ready_at_;
    Routes* routes_ = nullptr;
};

}  // namespace sample
