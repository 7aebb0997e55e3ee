#pragma once
// One HTTP request as the load generator saw it: a compact, fixed-size record of facts.
// Times are microseconds; `intended_us` is since the run started, the others are offsets from
// `started_us` (kNever when the step never happened). The record knows nothing of verdicts.
#include <cstdint>
#include <limits>

namespace draincheck {

enum class Outcome : uint8_t {
    ok,           // complete response, status < 500
    http_error,   // complete response, status >= 500 (e.g. 503 while draining)
    refused,      // connect() refused: the listener is closed; correct after close
    dropped,      // request fully sent on an established connection, then EOF/RST with no response
    truncated,    // response started (bytes received) but cut before it was complete
    timeout,      // no complete response within the request timeout
    closed_idle,  // reused keep-alive connection closed by the server as the request raced it
    connect_error,// connect failed for another reason (e.g. EMFILE, unreachable)
    send_error,   // the connection broke while the request was still being written
};
inline constexpr int kOutcomeCount = 9;

// Raw facts kept alongside the outcome so the classification can be explained.
enum RecordFlags : uint8_t {
    kReusedConnection = 1 << 0,  // sent on a keep-alive connection that served a request before
    kFullyWritten     = 1 << 1,  // every byte of the request reached the socket
    kPeerReset        = 1 << 2,  // the peer reset the connection (RST: ECONNRESET/EPIPE), before or after its FIN
    kPeerEof          = 1 << 3,  // the connection ended with FIN (EOF)
    kHeadersComplete  = 1 << 4,  // the response header block was parsed
    kLocalTimeout     = 1 << 5,  // the harness gave up waiting
    kWaitedForConnection = 1 << 6,  // open loop: queued because max_connections were open when it was due
};

struct RequestRecord {
    static constexpr uint32_t kNever = std::numeric_limits<uint32_t>::max();

    uint32_t intended_us = 0;      // when the schedule wanted it sent (open loop), since run start
    uint32_t started_us = 0;       // when it actually started (connect or write), since run start
    uint32_t connected_us = kNever;  // offset from started: TCP connect done (fresh connections)
    uint32_t written_us = kNever;    // offset from started: last request byte written
    uint32_t first_byte_us = kNever; // offset from started: first response byte read
    uint32_t end_us = kNever;        // offset from started: outcome known
    uint32_t response_bytes = 0;     // bytes of response read (headers + body)
    uint32_t connection_id = 0;      // unique per TCP connection within a run (0 = none)
    uint16_t status = 0;             // HTTP status, 0 if none
    uint8_t template_index = 0;      // which [[load.mix]] entry
    uint8_t flags = 0;               // RecordFlags
    Outcome outcome = Outcome::ok;
    // Behind a load balancer ([fleet]): which replica answered, from the balancer's response header.
    uint8_t replica = 0;             // 1 + the replica index; 0 = not named
    uint8_t lb_retries = 0;          // attempts the balancer made before the one that answered
    uint8_t reserved = 0;

    static constexpr uint8_t kNoReplica = 0;
    // The replica index, or -1 when no balancer named one.
    int replica_index() const { return replica == kNoReplica ? -1 : int(replica) - 1; }

    bool has(RecordFlags f) const { return (flags & f) != 0; }
    // A request that waited for a free connection until its timeout, and so never went out.
    bool never_sent() const { return has(kLocalTimeout) && connection_id == 0; }
    // End time since run start, or kNever.
    uint64_t ended_at_us() const { return end_us == kNever ? kNever : uint64_t(started_us) + end_us; }
};

static_assert(sizeof(RequestRecord) == 40, "keep request records compact");

}  // namespace draincheck
