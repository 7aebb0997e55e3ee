#pragma once
// One client TCP connection of the load generator: connects (or reuses its keep-alive connection),
// writes one pre-serialized request, reads the response, and reports a RequestRecord of what it saw.
// Single-threaded: used only from its worker's io_context thread.
#include "common/run_clock.h"
#include "load/outcome.h"
#include "load/request_record.h"
#include "load/request_templates.h"
#include "load/response_reader.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <functional>
#include <optional>

namespace draincheck {

class ClientConnection;

struct ConnectionSettings {
    boost::asio::ip::tcp::endpoint endpoint;
    const RunClock* clock = nullptr;
    std::chrono::nanoseconds timeout{};
    uint32_t closed_idle_window_us = 1000;
    bool keep_alive = true;
    std::atomic<uint32_t>* next_connection_id = nullptr;
    std::atomic<bool>* out_of_descriptors = nullptr;   // set when a connect fails with EMFILE/ENFILE
    // When set, each new connection's local port is noted here (connection id, port).
    std::function<void(uint32_t connection_id, uint16_t local_port)> note_port;
};

// What a connection tells its owner when a request has an outcome.
class ConnectionOwner {
public:
    virtual void on_request_done(ClientConnection& c, const RequestRecord& r, bool keep_open) = 0;
protected:
    ~ConnectionOwner() = default;
};

struct Job {
    uint64_t sequence = 0;       // n-th request of the run
    int64_t intended_ns = 0;     // when it should have been sent
    uint8_t template_index = 0;
    bool waited_for_connection = false;   // queued while max_connections were open
};

class ClientConnection {
public:
    ClientConnection(boost::asio::io_context& io, const ConnectionSettings& settings,
                     const RequestTemplates& templates, ConnectionOwner& owner);

    // Starts `job` on this connection: reuses the open connection if the server has not closed
    // it meanwhile, else opens a new one. Exactly one on_request_done follows.
    void begin(const Job& job);
    bool is_open() const { return socket_.is_open(); }
    void close();

    // A timer free for the owner's use (e.g. a pause before reconnecting).
    boost::asio::steady_timer& delay_timer() { return delay_; }

private:
    bool still_alive();
    void do_connect();
    void on_connect(const boost::system::error_code& ec);
    void do_write();
    void on_write(const boost::system::error_code& ec);
    void do_read();
    void on_read(const boost::system::error_code& ec, size_t n);
    void on_timeout(const boost::system::error_code& ec, uint64_t generation);
    void finish(EndKind end, uint8_t extra_flags = 0);
    uint32_t since_start_us() const;

    const ConnectionSettings& settings_;
    const RequestTemplates& templates_;
    ConnectionOwner& owner_;
    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer timer_;
    boost::asio::steady_timer delay_;

    uint32_t connection_id_ = 0;
    uint32_t served_ = 0;            // complete responses on the current TCP connection
    uint64_t generation_ = 0;        // guards timer completions against later requests
    bool timed_out_ = false;

    RequestRecord record_;
    int64_t started_ns_ = 0;
    const SerializedRequest* request_ = nullptr;
    std::optional<ResponseReader> reader_;
    uint64_t response_bytes_ = 0;
    std::array<char, 16384> buffer_;
    size_t buffered_ = 0;
};

}  // namespace draincheck
