#pragma once
// The outcome taxonomy: names, and the pure rule that turns a record's raw facts into an outcome.
#include "load/request_record.h"

#include <optional>
#include <string_view>

namespace draincheck {

std::string_view outcome_name(Outcome o);
std::optional<Outcome> outcome_from_name(std::string_view name);
// True for outcomes that mean "the server accepted the request's connection and then failed to
// answer it": dropped and truncated.
bool is_inflight_drop(Outcome o);

// How the exchange ended, as the load generator observed it.
enum class EndKind {
    complete,        // a full response was parsed
    connect_refused, // ECONNREFUSED
    connect_failed,  // any other connect error
    write_failed,    // error while writing the request
    peer_closed,     // EOF or RST while waiting for/reading the response
    timed_out,       // the request timeout expired
};

struct ClassifyInput {
    EndKind end = EndKind::complete;
    uint16_t status = 0;
    bool reused_connection = false;
    uint32_t response_bytes = 0;
    // Time between the last request byte written and the end of the connection, in µs.
    uint32_t written_to_end_us = RequestRecord::kNever;
    // The server reset the connection (RST, alone or after its FIN): its kernel resets a connection
    // that is closed with unread data in it, or that data reaches after its close, so the server
    // never read the request.
    bool reset_unread = false;
    uint32_t closed_idle_window_us = 1000;
};

// The rule documented in the README ("Outcome taxonomy").
Outcome classify(const ClassifyInput& in);

}  // namespace draincheck
