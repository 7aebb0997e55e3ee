#pragma once
// One client connection to the builtin balancer: reads requests (keep-alive), forwards each to a
// replica with retries, and writes the answer back tagged with the replica that gave it.
#include "common/run_clock.h"
#include "fleet/backend_pool.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>

namespace draincheck {

struct BuiltinCore;

class BuiltinSession {
public:
    BuiltinSession(BuiltinCore& core, boost::asio::ip::tcp::socket socket);
    ~BuiltinSession();
    BuiltinSession(const BuiltinSession&) = delete;
    BuiltinSession& operator=(const BuiltinSession&) = delete;

    // Serves requests until the client closes, an error ends the connection or the balancer stops.
    boost::asio::awaitable<void> run();
    // Closes the client connection and the backend connection in use: the pending operations end.
    void close();

private:
    using Request = boost::beast::http::request<boost::beast::http::string_body>;
    using ResponseParser = boost::beast::http::response_parser<boost::beast::http::string_body>;
    struct Attempt;
    struct Reply;

    boost::asio::awaitable<bool> serve(Request& request);
    boost::asio::awaitable<void> attempt(Replica& replica, const Request& request, bool fresh,
                                         SteadyClock::time_point deadline, Attempt& result);
    boost::asio::awaitable<bool> forward_response(const Reply& reply);
    boost::asio::awaitable<void> abort_response(const Reply& reply);
    boost::asio::awaitable<void> send_error(unsigned status, const char* text, const Reply& reply);

    BuiltinCore& core_;
    boost::beast::tcp_stream client_;
    boost::beast::flat_buffer client_buffer_;
    std::optional<ResponseParser> response_;   // of the current attempt
    BackendConnection* backend_ = nullptr;     // the backend connection in use, for close()
};

}  // namespace draincheck
