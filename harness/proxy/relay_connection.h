#pragma once
// One connection through the fault proxy: the target's socket (the client), the socket to the
// dependency (upstream), and a relay in each direction. Without toxics a direction is a plain
// read -> write loop over one buffer; with toxics its chunks go through a queue ordered by release
// time. Lives on the proxy thread; every member function must be called there.
#include "common/run_clock.h"
#include "proxy/connection_log.h"
#include "proxy/toxics/toxic.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace draincheck {

class RelayConnection : public std::enable_shared_from_this<RelayConnection> {
public:
    using tcp = boost::asio::ip::tcp;

    struct Context {
        RunClock clock;
        ConnectionLog* log = nullptr;
        // Called once, when both sockets are closed; the proxy forgets the connection then.
        std::function<void(uint64_t id)> on_finished;
    };

    RelayConnection(Context context, uint64_t id, tcp::socket client, SteadyClock::time_point opened_at);

    uint64_t id() const { return id_; }
    SteadyClock::time_point opened_at() const { return opened_at_; }
    void set_owner_pid(int pid) { owner_pid_ = pid; }

    // Connects to the dependency, then relays both ways.
    void connect(const std::vector<tcp::endpoint>& upstream);

    // Toxics apply to chunks read from now on; detaching leaves already queued chunks as they are.
    void attach(uint64_t toxic_id, std::unique_ptr<toxics::ToxicLink> link);
    void detach(uint64_t toxic_id);
    // draincheck is about to stop (or fault) the dependency: from now on, its closing this connection
    // is draincheck's doing, never an answer to the target's goodbye.
    void harness_acts_on_dependency() { harness_acted_ = true; }

    // Ends the connection now, for a reason outside the two sockets (a toxic, reset_all, stop).
    // With reset_client the target gets an RST instead of a FIN.
    void end(ProxyConnection::Closer by, const std::string& detail, bool reset_client);

private:
    // One chunk waiting for its release time, or (end_of_stream) the source's close to pass on.
    struct Piece {
        std::vector<char> bytes;
        SteadyClock::time_point release;
        toxics::Ending then;
        bool end_of_stream = false;
    };

    struct Direction {
        Direction(toxics::Flow flow, tcp::socket& from, tcp::socket& to, ProxyConnection::Closer from_side,
                  ProxyConnection::Closer to_side, const boost::asio::any_io_executor& executor)
            : flow(flow), from(from), to(to), from_side(from_side), to_side(to_side), timer(executor) {}

        toxics::Flow flow;
        tcp::socket& from;
        tcp::socket& to;
        ProxyConnection::Closer from_side;
        ProxyConnection::Closer to_side;
        std::array<char, 16 * 1024> buffer;

        std::deque<Piece> queue;            // release times never decrease along it
        size_t queued_bytes = 0;
        SteadyClock::time_point last_release{};
        boost::asio::steady_timer timer;    // for the head of the queue
        bool timer_armed = false;
        bool writing = false;
        bool paused = false;                // reading stopped until the queue drains
        bool source_done = false;           // nothing more will be read from `from`
        bool done = false;                  // nothing more will be written to `to`
    };

    void relay(Direction& d);
    void wait_readable(Direction& d);
    void on_direct_write(Direction& d, const boost::system::error_code& ec);

    void enqueue_shaped(Direction& d, size_t n);
    void push(Direction& d, Piece piece);
    void pump(Direction& d);
    void on_piece_written(Direction& d, const boost::system::error_code& ec);

    void source_ended(Direction& d, const boost::system::error_code& ec);
    void destination_failed(Direction& d, const boost::system::error_code& ec);
    void pass_on_close(Direction& d);

    void record_close(ProxyConnection::Closer by, const std::string& detail, bool owner_exiting = false);
    bool target_owner_exiting();
    void maybe_finish();
    void close_sockets(bool reset_client);

    bool shaping(toxics::Flow flow) const { return shaping_[flow == toxics::Flow::up ? 0 : 1]; }
    void update_toxic_state();
    void on_deadline(const boost::system::error_code& ec);

    Context context_;
    uint64_t id_;
    SteadyClock::time_point opened_at_;
    std::optional<int> owner_pid_;
    tcp::socket client_;
    tcp::socket upstream_;
    Direction up_;       // client -> upstream
    Direction down_;     // upstream -> client

    std::vector<std::pair<uint64_t, std::unique_ptr<toxics::ToxicLink>>> links_;   // in toxic id order
    std::array<bool, 2> shaping_{false, false};    // [up, down]: some link shapes that flow
    boost::asio::steady_timer deadline_timer_;

    bool close_recorded_ = false;
    bool harness_acted_ = false;         // draincheck stopped or faulted the dependency meanwhile
    bool closed_ = false;                // both sockets closed; handlers still in flight do nothing
};

}  // namespace draincheck
