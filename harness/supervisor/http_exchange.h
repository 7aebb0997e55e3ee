#pragma once
// One HTTP/1.1 request to a server on a fresh connection (`Connection: close`), bounded by a timeout:
// the small client behind the ready probe and the fleet's statelessness probe.
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace draincheck {

struct HttpExchangeRequest {
    std::string method = "GET";
    std::string target = "/";
    std::string cookie;              // sent as Cookie: if not empty
    bool connect_only = false;       // stop once connected (a TCP probe)
    bool read_body = false;          // read the whole response (at most 64 KiB), not only its header
};

struct HttpExchangeResult {
    bool connected = false;
    bool answered = false;           // the response header (and the body, if asked) arrived
    bool timed_out = false;
    unsigned status = 0;
    std::string body;
    std::string set_cookie;          // "name=value" of the first Set-Cookie
    boost::system::error_code error; // why it did not get that far (unless timed_out)

    // "connection refused", "connection reset", "connection closed without a response", "timeout", ...
    std::string failure() const;
};

// `done` is called exactly once, on `io`'s thread, unless the exchange is cancelled first with the
// function returned (then never). `host` is an IP address or "localhost".
std::function<void()> async_http_exchange(boost::asio::io_context& io, const std::string& host, uint16_t port,
                                          HttpExchangeRequest request, std::chrono::nanoseconds timeout,
                                          std::function<void(HttpExchangeResult)> done);

}  // namespace draincheck
