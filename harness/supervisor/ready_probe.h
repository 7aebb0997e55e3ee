#pragma once
// Asks the target whether it is ready: an HTTP GET expecting 2xx, or a plain TCP connect.
#include "scenario/scenario.h"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>

namespace draincheck {

struct ProbeResult {
    bool ready = false;
    std::string detail;   // "200", "503", "connection refused", "timeout", ...
    bool no_answer = false;     // timed out, or the connection broke before a response: says nothing
};

// One probe attempt (fresh connection, `Connection: close`), bounded by `timeout`. Returns a cancel
// function that closes the connection (done is then not called).
std::function<void()> async_probe_once(boost::asio::io_context& io, const std::string& host, uint16_t port,
                                       const ReadyProbe& probe, std::chrono::nanoseconds timeout,
                                       std::function<void(ProbeResult)> done);

// Repeats async_probe_once every probe.interval until one succeeds or probe.timeout passes.
// `done(true, last)` on success; `done(false, last)` on timeout. Returns a cancel function that
// stops further attempts (done is then not called).
std::function<void()> async_wait_ready(boost::asio::io_context& io, const std::string& host,
                                       uint16_t port, const ReadyProbe& probe,
                                       std::function<void(bool ready, ProbeResult last)> done);

}  // namespace draincheck
