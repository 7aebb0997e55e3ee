#pragma once
// Sends the scenario's HTTP load to the target and records every request.
//
// Open loop (`mode = "rate"`): requests are scheduled at a constant rate and each one's latency is
// measured from its *intended* send time, so a stalled server cannot hide behind the client slowing
// down (no coordinated omission). Closed loop (`mode = "connections"`): N keep-alive connections,
// each sending its next request as soon as the previous one ended.
//
// Each load thread has its own io_context, connections and record store; nothing is shared between
// threads but a few atomic counters. The load stops by itself at `duration` or `max_requests`.
#include "common/run_clock.h"
#include "load/request_record.h"
#include "scenario/scenario.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace draincheck {

struct LoadProgress {
    uint64_t started = 0;      // requests begun
    uint64_t completed = 0;    // requests with an outcome
    uint64_t errors = 0;       // outcomes other than ok
    uint64_t in_flight() const { return started - completed; }
};

class LoadGenerator {
public:
    LoadGenerator(const LoadSpec& spec, std::string host, uint16_t port, const RunClock& clock);
    ~LoadGenerator();  // stops and joins
    LoadGenerator(const LoadGenerator&) = delete;
    LoadGenerator& operator=(const LoadGenerator&) = delete;

    // Before start(): note each connection's local port (connection_ports()), for a platform that
    // learns from the server's side which instance held which connection.
    void record_connection_ports();
    // After join(): (connection id, local port) of every connection made.
    std::vector<std::pair<uint32_t, uint16_t>> connection_ports() const;

    // Starts the load threads now. `on_finished` is called once, from a load thread, when every
    // thread has stopped issuing and every request has an outcome. Returns the start (ns).
    int64_t start(std::function<void()> on_finished);

    // Stop issuing new requests (thread-safe, idempotent). In-flight requests still get their
    // outcome (a response, an error, or their timeout).
    void stop();

    // Joins the load threads. Call after on_finished, or after stop() to wait for it.
    void join();

    LoadProgress progress() const;

    // After join(): every record, sorted by start time. Moves them out.
    std::vector<RequestRecord> take_records();
    uint64_t records_lost() const;       // beyond the record capacity
    uint64_t requests_not_sent() const;  // scheduled but never started when the load stopped
    // True once a connect failed for lack of file descriptors (those requests are connect_error).
    bool out_of_descriptors() const;
    int64_t started_ns() const;
    // After join(): when the last load thread stopped sending new requests, at the end of the load's
    // duration (later if its schedule fell behind) or when it was stopped before.
    int64_t sending_stopped_ns() const;
    int64_t stopped_ns() const;          // when the last request ended

    struct Worker;   // one load thread (load_generator.cpp)
    struct Shared;   // what the threads share (read-only during the run, plus atomics)

private:
    std::unique_ptr<Shared> shared_;
    std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace draincheck
